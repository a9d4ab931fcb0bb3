//! serde's `rename_all` and `rename` set the API names; the attribute keeps Rust names.
#![deny(warnings)]

use expose_runtime::expose;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[expose(as = "accounts", list(sort = "created_at", filter = "display_name"), retrieve)]
pub struct Account {
    pub id: i64,
    #[serde(rename = "name", default)]
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<chrono::NaiveDate>,
}

#[derive(Serialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
#[expose(as = "loud", list(where = "is_on.eq.true"))]
pub struct Loud {
    pub id: i64,
    pub is_on: bool,
}

fn main() {
    let _ = Account::router::<expose_runtime::Db>();
    let _ = Loud::router::<expose_runtime::Db>();
}
