//! Rows of user queries ([`Db::fetch_one`](super::Db::fetch_one), `HookCtx::fetch_one`), owned
//! and the same on every backend: read by column name and type, or decoded into a tuple or a
//! type of yours.

use crate::field_type::FieldType;
use crate::value::Value;
use std::sync::Arc;

/// One row of a user query: its columns' names and values, decoded once from the backend's
/// row into the runtime's [`Value`]s.
///
/// ```
/// use expose_runtime::{Row, Value};
///
/// let row = Row::new(vec!["n".into(), "bio".into()], vec![Value::I32(3), Value::from(None::<String>)]);
/// assert_eq!(row.get::<i64>("n")?, 3); // any integer width that fits
/// assert_eq!(row.get::<Option<String>>("bio")?, None);
/// let e = row.get::<String>("n").unwrap_err();
/// assert_eq!(e.to_string(), "column `n` is INTEGER (i32) and cannot be read as String");
/// # Ok::<(), expose_runtime::ColumnError>(())
/// ```
///
/// Integers read as any integer type they fit, floats as `f32` or `f64`, and `NULL` only as
/// an `Option`. What a backend returns for an expression decides its type: PostgreSQL's
/// `COUNT(*)` is `BIGINT`, `SELECT 1` is `INTEGER`; `SUM` of integers and other `NUMERIC`
/// results have no `Value`, so cast them (`CAST(SUM(x) AS BIGINT)`). Booleans are integers
/// on SQLite and MySQL; [`get::<bool>`](Row::get) reads `0` and `1` too.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    names: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    /// A row from its column names and values, in the same order (for tests of code that
    /// reads rows).
    pub fn new(names: Vec<String>, values: Vec<Value>) -> Row {
        assert_eq!(names.len(), values.len(), "one name per value");
        Row {
            names: names.into(),
            values,
        }
    }

    pub(crate) fn with_names(names: Arc<[String]>, values: Vec<Value>) -> Row {
        Row { names, values }
    }

    /// Column `column` (a name, or a position from 0) as a `T`; an error names the column,
    /// its type and `T`.
    pub fn get<T: FromValue>(&self, column: impl ColumnIndex) -> Result<T, ColumnError> {
        let i = column.index(self)?;
        let name = &self.names[i];
        T::from_value(&self.values[i]).ok_or_else(|| ColumnError {
            column: name.clone(),
            found: Some(describe(&self.values[i])),
            wanted: short(std::any::type_name::<T>()),
        })
    }

    /// The value of a column, as decoded.
    pub fn value(&self, column: impl ColumnIndex) -> Result<&Value, ColumnError> {
        Ok(&self.values[column.index(self)?])
    }

    /// The column names, in the statement's order.
    pub fn columns(&self) -> &[String] {
        &self.names
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The row as a JSON object (column name → value; the last of two columns of one name
    /// wins), the form a `#[derive(Deserialize)]` struct reads with [`Row::deserialize`].
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.names
            .iter()
            .zip(&self.values)
            .map(|(n, v)| (n.clone(), json(v)))
            .collect()
    }

    /// The row decoded into a `T: Deserialize` by column name, through [`Row::to_json`]:
    /// date-times as RFC 3339 text, so a `chrono::DateTime<Utc>` field reads them.
    ///
    /// ```
    /// use expose_runtime::{Row, Value};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Member { id: i64, name: String, bio: Option<String> }
    ///
    /// let row = Row::new(
    ///     vec!["id".into(), "name".into(), "bio".into()],
    ///     vec![Value::I64(2), Value::from("ann"), Value::from(None::<String>)],
    /// );
    /// let m: Member = row.deserialize()?;
    /// assert_eq!((m.id, m.name.as_str(), m.bio), (2, "ann", None));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(serde_json::Value::Object(self.to_json()))
    }
}

pub(crate) fn json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null(_) => J::Null,
        Value::I16(x) => (*x).into(),
        Value::I32(x) => (*x).into(),
        Value::I64(x) => (*x).into(),
        Value::F32(x) => (*x).into(),
        Value::F64(x) => (*x).into(),
        Value::Bool(x) => (*x).into(),
        Value::Text(x) => x.clone().into(),
        Value::DateTime(x) => x.to_rfc3339().into(),
        Value::Date(x) => x.to_string().into(),
        Value::Uuid(x) => x.to_string().into(),
        Value::Json(x) => (**x).clone(),
        // Its text: a JSON number would go through `f64` here.
        Value::Decimal(x) => x.to_string().into(),
        Value::Array(a) => a.to_json(),
    }
}

/// A type's name without module paths: `Option<String>`.
fn short(name: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    for c in name.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            out.push_str(word.rsplit("::").next().unwrap_or(""));
            word.clear();
            out.push(c);
        }
    }
    out.pop();
    out
}

/// The SQL type of a value, and the Rust type it decoded as, for messages.
fn describe(v: &Value) -> String {
    let (sql, rust) = match v {
        Value::Null(_) => ("NULL", "None"),
        Value::I16(_) => ("SMALLINT", "i16"),
        Value::I32(_) => ("INTEGER", "i32"),
        Value::I64(_) => ("BIGINT", "i64"),
        Value::F32(_) => ("REAL", "f32"),
        Value::F64(_) => ("DOUBLE PRECISION", "f64"),
        Value::Bool(_) => ("BOOLEAN", "bool"),
        Value::Text(_) => ("TEXT", "String"),
        Value::DateTime(_) => ("TIMESTAMP", "chrono::DateTime<Utc>"),
        Value::Date(_) => ("DATE", "chrono::NaiveDate"),
        Value::Uuid(_) => ("UUID", "uuid::Uuid"),
        Value::Json(_) => ("JSON", "serde_json::Value"),
        Value::Decimal(_) => ("NUMERIC", "rust_decimal::Decimal"),
        Value::Array(a) => match a.item() {
            crate::field_type::ArrayItem::Text => ("TEXT[]", "Vec<String>"),
            crate::field_type::ArrayItem::I32 => ("INTEGER[]", "Vec<i32>"),
            crate::field_type::ArrayItem::I64 => ("BIGINT[]", "Vec<i64>"),
            crate::field_type::ArrayItem::F64 => ("DOUBLE PRECISION[]", "Vec<f64>"),
            crate::field_type::ArrayItem::Bool => ("BOOLEAN[]", "Vec<bool>"),
        },
    };
    format!("{sql} ({rust})")
}

/// Why a column could not be read as the type asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnError {
    column: String,
    /// The column's type as decoded; `None`: the row has no such column.
    found: Option<String>,
    wanted: String,
}

impl std::fmt::Display for ColumnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.found {
            Some(found) => write!(
                f,
                "column `{}` is {found} and cannot be read as {}",
                self.column, self.wanted
            ),
            None => write!(f, "the row has no column `{}`", self.column),
        }
    }
}

impl std::error::Error for ColumnError {}

/// A column error in a hook is the hook's mistake: 500, logged with the message.
impl From<ColumnError> for crate::problem::Problem {
    fn from(e: ColumnError) -> crate::problem::Problem {
        crate::problem::Problem::internal(&e)
    }
}

impl From<ColumnError> for sqlx::Error {
    fn from(e: ColumnError) -> sqlx::Error {
        sqlx::Error::Decode(Box::new(e))
    }
}

/// How [`Row::get`] names a column: by name (`&str`) or position (`usize`, from 0).
pub trait ColumnIndex {
    /// The column's position in `row`.
    fn index(&self, row: &Row) -> Result<usize, ColumnError>;
}

impl ColumnIndex for &str {
    fn index(&self, row: &Row) -> Result<usize, ColumnError> {
        row.names
            .iter()
            .position(|n| n == self)
            .ok_or_else(|| ColumnError {
                column: (*self).to_owned(),
                found: None,
                wanted: String::new(),
            })
    }
}

impl ColumnIndex for usize {
    fn index(&self, row: &Row) -> Result<usize, ColumnError> {
        if *self < row.len() {
            Ok(*self)
        } else {
            Err(ColumnError {
                column: format!("#{self}"),
                found: None,
                wanted: String::new(),
            })
        }
    }
}

/// A Rust type a column's [`Value`] reads as (through [`Row::get`] or a tuple's
/// [`FromRow`]). `Option<T>` reads `NULL` as `None`; `T` alone refuses it.
#[diagnostic::on_unimplemented(
    message = "a column cannot be read as `{Self}`",
    note = "columns read as i16, i32, i64, f32, f64, bool, String, chrono::DateTime<Utc>, chrono::NaiveDate, uuid::Uuid, serde_json::Value, rust_decimal::Decimal, Vec<String>, Vec<i32>, Vec<i64>, Vec<f64>, Vec<bool>, Value, or an Option of one"
)]
pub trait FromValue: Sized {
    /// The value as `Self`, or `None` when it is of another type (or does not fit).
    fn from_value(v: &Value) -> Option<Self>;
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null(_) => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl FromValue for Value {
    fn from_value(v: &Value) -> Option<Self> {
        Some(v.clone())
    }
}

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: &Value) -> Option<Self> {
                match *v {
                    Value::I16(x) => x.try_into().ok(),
                    Value::I32(x) => x.try_into().ok(),
                    Value::I64(x) => x.try_into().ok(),
                    _ => None,
                }
            }
        }
    )*};
}

integers!(i16, i32, i64);

impl FromValue for f64 {
    fn from_value(v: &Value) -> Option<Self> {
        match *v {
            Value::F32(x) => Some(x.into()),
            Value::F64(x) => Some(x),
            // Asked for explicitly (an `AVG` on MySQL is a `DECIMAL`): the nearest float.
            Value::Decimal(x) => rust_decimal::prelude::ToPrimitive::to_f64(&x),
            _ => None,
        }
    }
}

impl FromValue for f32 {
    fn from_value(v: &Value) -> Option<Self> {
        match *v {
            Value::F32(x) => Some(x),
            Value::F64(x) => Some(x as f32),
            _ => None,
        }
    }
}

impl FromValue for bool {
    fn from_value(v: &Value) -> Option<Self> {
        match *v {
            Value::Bool(x) => Some(x),
            Value::I16(x @ (0 | 1)) => Some(x == 1),
            Value::I32(x @ (0 | 1)) => Some(x == 1),
            Value::I64(x @ (0 | 1)) => Some(x == 1),
            _ => None,
        }
    }
}

macro_rules! owned {
    ($($t:ty => $v:ident),*) => {$(
        impl FromValue for $t {
            fn from_value(v: &Value) -> Option<Self> {
                match v {
                    Value::$v(x) => Some(x.clone()),
                    _ => None,
                }
            }
        }
    )*};
}

owned!(
    String => Text,
    chrono::DateTime<chrono::Utc> => DateTime,
    chrono::NaiveDate => Date,
    uuid::Uuid => Uuid
);

impl FromValue for rust_decimal::Decimal {
    fn from_value(v: &Value) -> Option<Self> {
        match *v {
            Value::Decimal(x) => Some(x),
            // SQLite keeps decimals as text.
            Value::Text(ref t) => crate::decimal::parse(t),
            Value::I16(x) => Some(x.into()),
            Value::I32(x) => Some(x.into()),
            Value::I64(x) => Some(x.into()),
            _ => None,
        }
    }
}

impl FromValue for serde_json::Value {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Json(x) => Some((**x).clone()),
            Value::Array(a) => Some(a.to_json()),
            _ => None,
        }
    }
}

/// An array column read on every backend: a PostgreSQL array, or the JSON array that holds
/// it on SQLite (text) and MySQL (`JSON`).
macro_rules! arrays {
    ($($t:ty => $v:ident),*) => {$(
        impl FromValue for Vec<$t> {
            fn from_value(v: &Value) -> Option<Self> {
                use crate::field_type::ArrayItem;
                use crate::value::Array;
                let json = match v {
                    Value::Array(a) => return match &**a {
                        Array::$v(x) => Some(x.clone()),
                        _ => None,
                    },
                    Value::Json(j) => (**j).clone(),
                    Value::Text(t) => serde_json::from_str(t).ok()?,
                    _ => return None,
                };
                match Array::from_json(ArrayItem::$v, json).ok()? {
                    Array::$v(x) => Some(x),
                    _ => None,
                }
            }
        }
    )*};
}

arrays!(String => Text, i32 => I32, i64 => I64, f64 => F64, bool => Bool);

/// What a fetch returns each row as: [`Row`] itself, a tuple of [`FromValue`]s read by
/// position (`(i64,)`, `(i64, Option<String>)`, up to 8), or a type of yours that reads its
/// fields with [`Row::get`] (or [`Row::deserialize`]).
///
/// ```
/// use expose_runtime::{ColumnError, FromRow, Row};
///
/// struct Loan { id: i64, book_id: i64 }
///
/// impl FromRow for Loan {
///     fn from_row(row: Row) -> Result<Loan, ColumnError> {
///         Ok(Loan { id: row.get("id")?, book_id: row.get("book_id")? })
///     }
/// }
/// ```
pub trait FromRow: Sized {
    /// Decodes one row.
    fn from_row(row: Row) -> Result<Self, ColumnError>;
}

impl FromRow for Row {
    fn from_row(row: Row) -> Result<Row, ColumnError> {
        Ok(row)
    }
}

macro_rules! tuples {
    ($(($($t:ident $i:tt),+)),*) => {$(
        impl<$($t: FromValue),+> FromRow for ($($t,)+) {
            fn from_row(row: Row) -> Result<Self, ColumnError> {
                Ok(($(row.get::<$t>($i as usize)?,)+))
            }
        }
    )*};
}

tuples!(
    (A 0),
    (A 0, B 1),
    (A 0, B 1, C 2),
    (A 0, B 1, C 2, D 3),
    (A 0, B 1, C 2, D 3, E 4),
    (A 0, B 1, C 2, D 3, E 4, F 5),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
);

/// A decoded column whose SQL type has no [`Value`].
pub(crate) fn unsupported(column: &str, sql_type: &str) -> sqlx::Error {
    sqlx::Error::Decode(
        format!(
            "column `{column}` is {sql_type}, which a user query cannot return; cast it \
             (to BIGINT, DOUBLE PRECISION or TEXT)"
        )
        .into(),
    )
}

/// The placeholder type of a `NULL` whose column type is unknown.
pub(crate) const UNKNOWN_NULL: FieldType = FieldType::Text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_by_name_position_and_type() {
        let row = Row::new(
            vec!["n".into(), "bio".into(), "ok".into()],
            vec![Value::I64(300), Value::Null(FieldType::Text), Value::I64(1)],
        );
        assert_eq!(row.get::<i32>("n"), Ok(300));
        assert!(row.get::<i16>(0).is_ok());
        assert!(row.get::<bool>("ok").unwrap());
        assert_eq!(row.get::<Option<String>>(1), Ok(None));
        assert_eq!(
            row.get::<String>("bio").unwrap_err().to_string(),
            "column `bio` is NULL (None) and cannot be read as String"
        );
        assert_eq!(
            row.get::<i64>("nope").unwrap_err().to_string(),
            "the row has no column `nope`"
        );
        assert_eq!(
            row.get::<i64>(3).unwrap_err().to_string(),
            "the row has no column `#3`"
        );
        let (n, bio): (i64, Option<String>) = FromRow::from_row(row.clone()).unwrap();
        assert_eq!((n, bio), (300, None));
        assert!(<(String,)>::from_row(row).is_err());
    }
}
