//! Which Rust types a model field may have, and how each maps to a value type.

use expose_core::grammar::TypeClass;

/// The value type of a field, decided by its Rust type through [`FieldKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// `i16` (SQL `SMALLINT`).
    I16,
    /// `i32` (SQL `INTEGER`).
    I32,
    /// `i64` (SQL `BIGINT`).
    I64,
    /// `f32` (SQL `REAL`).
    F32,
    /// `f64` (SQL `DOUBLE PRECISION`).
    F64,
    /// `bool` (SQL `BOOLEAN`).
    Bool,
    /// `String` (SQL `TEXT` / `VARCHAR`).
    Text,
    /// `chrono::DateTime<Utc>` (SQL `TIMESTAMPTZ`, MySQL `DATETIME`).
    DateTime,
    /// `chrono::NaiveDate` (SQL `DATE`).
    Date,
    /// `uuid::Uuid` (PostgreSQL `UUID`, elsewhere 16 bytes).
    Uuid,
    /// `serde_json::Value` (PostgreSQL `JSONB`, MySQL `JSON`, SQLite `TEXT`).
    Json,
    /// `rust_decimal::Decimal` (PostgreSQL `NUMERIC`, MySQL `DECIMAL`, SQLite `TEXT`: an
    /// exact decimal, compared and sorted as a number on every backend).
    Decimal,
    /// A Rust enum stored as text (`#[derive(expose_runtime::Enum)]`): one of these names.
    Enum(&'static [&'static str]),
    /// `Vec<T>` of an [`ArrayItem`] type: a PostgreSQL array (`TEXT[]`, `BIGINT[]`, ...);
    /// on SQLite and MySQL/MariaDB, which have no arrays, a JSON array (SQLite `TEXT`,
    /// MySQL `JSON`). Tested with `cs`, `cd` and `ov` on every backend.
    Array(ArrayItem),
}

/// The item type of an array field ([`FieldType::Array`]): `Vec<String>`, `Vec<i32>`,
/// `Vec<i64>`, `Vec<f64>`, `Vec<bool>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayItem {
    /// `String` (PostgreSQL `TEXT[]`).
    Text,
    /// `i32` (PostgreSQL `INTEGER[]`).
    I32,
    /// `i64` (PostgreSQL `BIGINT[]`).
    I64,
    /// `f64` (PostgreSQL `DOUBLE PRECISION[]`).
    F64,
    /// `bool` (PostgreSQL `BOOLEAN[]`).
    Bool,
}

impl ArrayItem {
    /// The field type of one item.
    pub fn field_type(self) -> FieldType {
        match self {
            ArrayItem::Text => FieldType::Text,
            ArrayItem::I32 => FieldType::I32,
            ArrayItem::I64 => FieldType::I64,
            ArrayItem::F64 => FieldType::F64,
            ArrayItem::Bool => FieldType::Bool,
        }
    }
}

impl FieldType {
    /// How the type is named in error messages.
    pub fn describe(self) -> &'static str {
        match self {
            FieldType::I16 => "an integer from -32768 to 32767",
            FieldType::I32 => "an integer from -2147483648 to 2147483647",
            FieldType::I64 => "a 64-bit integer",
            FieldType::F32 | FieldType::F64 => "a finite number",
            FieldType::Bool => "true or false",
            FieldType::Text => "a string",
            FieldType::DateTime => "an RFC 3339 date-time such as 2024-01-31T12:00:00Z",
            FieldType::Date => "a date such as 2024-01-31",
            FieldType::Uuid => "a UUID",
            FieldType::Json => "any JSON value",
            FieldType::Decimal => {
                "a decimal number of at most 28 significant digits, such as 12.50 or \"12.50\""
            }
            FieldType::Enum(_) => "one of the allowed values",
            FieldType::Array(ArrayItem::Text) => "an array of strings",
            FieldType::Array(ArrayItem::I32) => "an array of 32-bit integers",
            FieldType::Array(ArrayItem::I64) => "an array of 64-bit integers",
            FieldType::Array(ArrayItem::F64) => "an array of finite numbers",
            FieldType::Array(ArrayItem::Bool) => "an array of true/false values",
        }
    }

    /// The grammar's class of the type, which decides the operators that apply to it
    /// (`expose_core::grammar`'s table).
    pub(crate) fn class(self) -> TypeClass {
        match self {
            FieldType::Text => TypeClass::Text,
            FieldType::Bool => TypeClass::Bool,
            FieldType::Json => TypeClass::Json,
            FieldType::Enum(_) => TypeClass::Enum,
            FieldType::Array(_) => TypeClass::Array,
            FieldType::I16
            | FieldType::I32
            | FieldType::I64
            | FieldType::F32
            | FieldType::F64
            | FieldType::Decimal
            | FieldType::DateTime
            | FieldType::Date
            | FieldType::Uuid => TypeClass::Ordered,
        }
    }

    /// Whether values of this type have an order (`gt`, `lt`, sorting): not JSON, not
    /// arrays (whose order differs between PostgreSQL's arrays and the JSON text that
    /// holds them elsewhere).
    pub fn is_ordered(self) -> bool {
        !matches!(self, FieldType::Json | FieldType::Array(_))
    }
}

/// Implemented by every Rust type a model field may have.
///
/// The macro reads `<T as FieldKind>::TYPE` for each field, so an unsupported type fails to
/// compile with an error at the field's type.
///
/// A Rust enum stored as text implements it with `#[derive(expose_runtime::Enum)]`, which
/// sets `TYPE` to [`FieldType::Enum`] with the variants' names, so that values are checked
/// against them. Implementing it by hand with `TYPE = FieldType::Text` accepts any text.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a supported #[expose] field type",
    label = "unsupported field type",
    note = "supported: i16, i32, i64, f32, f64, bool, String, chrono::DateTime<Utc>, chrono::NaiveDate, uuid::Uuid, serde_json::Value, expose_runtime::Json<T>, rust_decimal::Decimal, Vec<String>, Vec<i32>, Vec<i64>, Vec<f64>, Vec<bool>, enums with #[derive(expose_runtime::Enum)], and Option of each"
)]
pub trait FieldKind {
    /// The value type.
    const TYPE: FieldType;
    /// Whether the field accepts `null`.
    const NULLABLE: bool = false;
    /// For a typed JSON field ([`Json<T>`](crate::Json)): the check that a written document
    /// reads as a `T` (a body whose document does not is a 422 naming the field).
    const SHAPE: Option<JsonShape> = None;
}

/// Checks that a JSON document reads as a typed JSON field's type; the error says why not.
pub type JsonShape = fn(&serde_json::Value) -> Result<(), String>;

impl<T: FieldKind> FieldKind for Option<T> {
    const TYPE: FieldType = T::TYPE;
    const NULLABLE: bool = true;
    const SHAPE: Option<JsonShape> = T::SHAPE;
}

/// A JSON column whose documents are `T`s ([`Json`](crate::Json), sqlx's): stored, filtered
/// (`cs`, `cd`) and answered as `serde_json::Value` is, and a written document must
/// deserialize as a `T`.
impl<T: serde::de::DeserializeOwned> FieldKind for sqlx::types::Json<T> {
    const TYPE: FieldType = FieldType::Json;
    const SHAPE: Option<JsonShape> = Some(shape::<T>);
}

fn shape<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<(), String> {
    T::deserialize(v).map(|_| ()).map_err(|e| e.to_string())
}
