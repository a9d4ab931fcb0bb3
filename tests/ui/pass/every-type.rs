//! Every supported field type, and `Option` of each.
#![deny(warnings)]

use expose_runtime::expose;

#[expose(as = "samples", list, retrieve, create, update, remove)]
pub struct Sample {
    #[expose(id)]
    pub key: uuid::Uuid,
    pub small: i16,
    pub int: i32,
    pub big: i64,
    pub single: f32,
    pub double: f64,
    pub flag: bool,
    pub text: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub day: chrono::NaiveDate,
    pub other: uuid::Uuid,
    pub json: serde_json::Value,
    pub o_small: Option<i16>,
    pub o_int: Option<i32>,
    pub o_big: Option<i64>,
    pub o_single: Option<f32>,
    pub o_double: Option<f64>,
    pub o_flag: Option<bool>,
    pub o_text: Option<String>,
    pub o_at: Option<chrono::DateTime<chrono::Utc>>,
    pub o_day: Option<chrono::NaiveDate>,
    pub o_other: Option<uuid::Uuid>,
    pub o_json: Option<serde_json::Value>,
    pub price: rust_decimal::Decimal,
    pub o_price: Option<rust_decimal::Decimal>,
    pub status: Status,
    pub o_status: Option<Status>,
    pub tags: Vec<String>,
    pub ints: Vec<i32>,
    pub bigs: Vec<i64>,
    pub doubles: Vec<f64>,
    pub flags: Vec<bool>,
    pub o_tags: Option<Vec<String>>,
    pub typed: expose_runtime::Json<Prefs>,
    pub o_typed: Option<expose_runtime::Json<Vec<i32>>>,
}

/// The type of a typed JSON field.
#[derive(serde::Deserialize)]
pub struct Prefs {
    pub theme: String,
}

/// Containment in `where`: arrays take `cs`, `cd`, `ov`; JSON `cs` and `cd`.
#[expose(
    as = "tagged",
    list(
        where = "tags.cs.{a,\"b,c\"},or(ints.ov.{1,2},bigs.cd.{3}),meta.cs.{\"a\":[1]}",
        where = "meta.not.cd.[1,2]"
    )
)]
pub struct Tagged {
    pub id: i64,
    pub tags: Vec<String>,
    pub ints: Vec<i32>,
    pub bigs: Vec<i64>,
    pub meta: serde_json::Value,
}

/// An enum stored as text, with serde's names.
#[derive(expose_runtime::Enum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Active,
    #[serde(rename = "away")]
    OnLeave,
}

/// Keys of the other integer types.
#[expose(as = "smalls", list)]
pub struct Small {
    #[expose(id)]
    pub id: i16,
}

#[expose(as = "texts", retrieve)]
pub struct Text {
    #[expose(id)]
    pub code: String,
}

fn main() {
    let _ = Sample::router::<expose_runtime::Db>();
    let _ = Small::router::<expose_runtime::Db>();
    let _ = Text::router::<expose_runtime::Db>();
    let _ = Tagged::router::<expose_runtime::Db>();
}
