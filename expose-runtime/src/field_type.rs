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
        }
    }

    /// The grammar's class of the type, which decides the operators that apply to it
    /// (`expose_core::grammar`'s table).
    pub(crate) fn class(self) -> TypeClass {
        match self {
            FieldType::Text => TypeClass::Text,
            FieldType::Bool => TypeClass::Bool,
            FieldType::Json => TypeClass::Json,
            FieldType::I16
            | FieldType::I32
            | FieldType::I64
            | FieldType::F32
            | FieldType::F64
            | FieldType::DateTime
            | FieldType::Date
            | FieldType::Uuid => TypeClass::Ordered,
        }
    }

    /// Whether values of this type have an order (`gt`, `lt`, sorting).
    pub fn is_ordered(self) -> bool {
        !matches!(self, FieldType::Json)
    }
}

/// Implemented by every Rust type a model field may have.
///
/// The macro reads `<T as FieldKind>::TYPE` for each field, so an unsupported type fails to
/// compile with an error at the field's type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a supported #[expose] field type",
    label = "unsupported field type",
    note = "supported: i16, i32, i64, f32, f64, bool, String, chrono::DateTime<Utc>, chrono::NaiveDate, uuid::Uuid, serde_json::Value, and Option of each"
)]
pub trait FieldKind {
    /// The value type.
    const TYPE: FieldType;
    /// Whether the field accepts `null`.
    const NULLABLE: bool = false;
}

impl<T: FieldKind> FieldKind for Option<T> {
    const TYPE: FieldType = T::TYPE;
    const NULLABLE: bool = true;
}
