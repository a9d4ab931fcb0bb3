//! Typed values: what a request body or query parameter holds once checked against a field.

use crate::field_type::{ArrayItem, FieldKind, FieldType};

/// A value bound to a SQL parameter, typed by its field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`, carrying the column's type so strict backends accept it.
    Null(FieldType),
    /// A `SMALLINT`.
    I16(i16),
    /// An `INTEGER`.
    I32(i32),
    /// A `BIGINT`.
    I64(i64),
    /// A `REAL`.
    F32(f32),
    /// A `DOUBLE PRECISION`.
    F64(f64),
    /// A `BOOLEAN`.
    Bool(bool),
    /// Text.
    Text(String),
    /// A UTC date-time.
    DateTime(chrono::DateTime<chrono::Utc>),
    /// A date.
    Date(chrono::NaiveDate),
    /// A UUID.
    Uuid(uuid::Uuid),
    /// A JSON document, boxed: a document is large (an object keeps its keys' order), and
    /// every other value is moved and copied at a third of that size.
    Json(Box<serde_json::Value>),
    /// An exact decimal.
    Decimal(rust_decimal::Decimal),
    /// An array (`Vec<T>`), boxed as a document is.
    Array(Box<Array>),
}

/// The items of an array value ([`Value::Array`]), typed by the field's [`ArrayItem`].
#[derive(Debug, Clone, PartialEq)]
pub enum Array {
    /// `Vec<String>`.
    Text(Vec<String>),
    /// `Vec<i32>`.
    I32(Vec<i32>),
    /// `Vec<i64>`.
    I64(Vec<i64>),
    /// `Vec<f64>`.
    F64(Vec<f64>),
    /// `Vec<bool>`.
    Bool(Vec<bool>),
}

impl Array {
    /// The type of the items.
    pub fn item(&self) -> ArrayItem {
        match self {
            Array::Text(_) => ArrayItem::Text,
            Array::I32(_) => ArrayItem::I32,
            Array::I64(_) => ArrayItem::I64,
            Array::F64(_) => ArrayItem::F64,
            Array::Bool(_) => ArrayItem::Bool,
        }
    }

    /// The array as a JSON array (how SQLite and MySQL store it, and how it is answered).
    pub fn to_json(&self) -> serde_json::Value {
        fn all<T: Clone + Into<serde_json::Value>>(v: &[T]) -> serde_json::Value {
            serde_json::Value::Array(v.iter().cloned().map(Into::into).collect())
        }
        match self {
            Array::Text(v) => all(v),
            Array::I32(v) => all(v),
            Array::I64(v) => all(v),
            Array::F64(v) => all(v),
            Array::Bool(v) => all(v),
        }
    }

    /// An array of `item`s from values already checked as items of that type.
    fn collect(item: ArrayItem, values: Vec<Value>) -> Array {
        macro_rules! pick {
            ($variant:ident) => {
                Array::$variant(
                    values
                        .into_iter()
                        .filter_map(|v| match v {
                            Value::$variant(x) => Some(x),
                            _ => None,
                        })
                        .collect(),
                )
            };
        }
        match item {
            ArrayItem::Text => pick!(Text),
            ArrayItem::I32 => pick!(I32),
            ArrayItem::I64 => pick!(I64),
            ArrayItem::F64 => pick!(F64),
            ArrayItem::Bool => pick!(Bool),
        }
    }

    /// Reads a JSON array of `item`s (as stored on SQLite and MySQL, or sent in a body).
    pub(crate) fn from_json(item: ArrayItem, v: serde_json::Value) -> Result<Array, ValueError> {
        let serde_json::Value::Array(items) = v else {
            return Err(expected(FieldType::Array(item)));
        };
        let values = items
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                Value::from_json(item.field_type(), false, v)
                    .map_err(|e| ValueError(format!("item {i}: {}", e.0)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Array::collect(item, values))
    }

    /// Reads an array literal as PostgREST writes it in a filter, `{a,b,"c,d"}`
    /// ([`expose_core::grammar::parse_array_literal`]), each item as an `item`.
    pub(crate) fn parse(item: ArrayItem, s: &str) -> Result<Array, ValueError> {
        let texts = expose_core::grammar::parse_array_literal(s).map_err(|why| {
            ValueError(format!("expected an array literal such as {{a,b}} ({why})"))
        })?;
        let values = texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Value::parse(item.field_type(), t)
                    .map_err(|e| ValueError(format!("item {i}: {}", e.0)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Array::collect(item, values))
    }
}

/// Why a value does not fit its field; the caller adds which field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError(pub String);

fn expected(ty: FieldType) -> ValueError {
    match ty {
        FieldType::Enum(names) => ValueError(format!("expected one of {}", enum_names(names))),
        _ => ValueError(format!("expected {}", ty.describe())),
    }
}

/// An enumeration's names as error messages list them: `` `a`, `b`, `c` ``.
pub(crate) fn enum_names(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

fn checked_text(s: &str) -> Result<String, ValueError> {
    if s.contains('\0') {
        return Err(ValueError("text must not contain NUL characters".into()));
    }
    Ok(s.to_owned())
}

/// A JSON number as an integer: `36` and `36.0` alike (JSON Schema counts both as integers).
fn integral(n: &serde_json::Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // Integer literals that fit an i64 were read exactly above. A number read as a float is
    // taken only below 2^53, where a float holds every integer: past it, the text may have
    // been rounded (`-9223372036854775809` reads as -2^63, which fits an i64 but is not what
    // the client sent).
    (f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0).then_some(f as i64)
}

impl Value {
    /// Reads a query-string or path value as the given type.
    pub fn parse(ty: FieldType, s: &str) -> Result<Value, ValueError> {
        let bad = || expected(ty);
        Ok(match ty {
            FieldType::I16 => Value::I16(s.parse().map_err(|_| bad())?),
            FieldType::I32 => Value::I32(s.parse().map_err(|_| bad())?),
            FieldType::I64 => Value::I64(s.parse().map_err(|_| bad())?),
            FieldType::F32 => {
                let v: f32 = s.parse().map_err(|_| bad())?;
                if !v.is_finite() {
                    return Err(bad());
                }
                Value::F32(v)
            }
            FieldType::F64 => {
                let v: f64 = s.parse().map_err(|_| bad())?;
                if !v.is_finite() {
                    return Err(bad());
                }
                Value::F64(v)
            }
            FieldType::Bool => match s {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(bad()),
            },
            FieldType::Text => Value::Text(checked_text(s)?),
            FieldType::DateTime => Value::DateTime(
                chrono::DateTime::parse_from_rfc3339(s)
                    .map_err(|_| bad())?
                    .with_timezone(&chrono::Utc),
            ),
            FieldType::Date => Value::Date(s.parse().map_err(|_| bad())?),
            FieldType::Uuid => Value::Uuid(s.parse().map_err(|_| bad())?),
            FieldType::Json => Value::Json(Box::new(
                serde_json::from_str(s).map_err(|_| ValueError("expected JSON".into()))?,
            )),
            FieldType::Decimal => Value::Decimal(crate::decimal::parse(s).ok_or_else(bad)?),
            FieldType::Enum(names) => match names.contains(&s) {
                true => Value::Text(s.to_owned()),
                false => return Err(bad()),
            },
            FieldType::Array(item) => Value::Array(Box::new(Array::parse(item, s)?)),
        })
    }

    /// Reads the value of a filter (`?price=gt.10`) as the given type: as [`Value::parse`],
    /// except that a date-time filter also takes a date alone, which means midnight UTC
    /// (as PostgreSQL reads `'2020-01-01'::timestamptz` in UTC), so that
    /// `created_at=gt.2020-01-01` works.
    pub fn parse_filter(ty: FieldType, s: &str) -> Result<Value, ValueError> {
        match Value::parse(ty, s) {
            Err(e) if ty == FieldType::DateTime => match s.parse::<chrono::NaiveDate>() {
                Ok(d) => Ok(Value::DateTime(
                    d.and_time(chrono::NaiveTime::MIN).and_utc(),
                )),
                Err(_) => Err(e),
            },
            v => v,
        }
    }

    /// Reads a JSON body member as the given type; `null` only where `nullable`.
    pub fn from_json(
        ty: FieldType,
        nullable: bool,
        v: serde_json::Value,
    ) -> Result<Value, ValueError> {
        use serde_json::Value as J;
        if v.is_null() {
            return if nullable {
                Ok(Value::Null(ty))
            } else {
                Err(ValueError("must not be null".into()))
            };
        }
        let bad = || expected(ty);
        Ok(match (ty, v) {
            (FieldType::I16, J::Number(n)) => Value::I16(
                integral(&n)
                    .and_then(|i| i16::try_from(i).ok())
                    .ok_or_else(bad)?,
            ),
            (FieldType::I32, J::Number(n)) => Value::I32(
                integral(&n)
                    .and_then(|i| i32::try_from(i).ok())
                    .ok_or_else(bad)?,
            ),
            (FieldType::I64, J::Number(n)) => Value::I64(integral(&n).ok_or_else(bad)?),
            (FieldType::F32, J::Number(n)) => {
                let f = n.as_f64().ok_or_else(bad)? as f32;
                if !f.is_finite() {
                    return Err(bad());
                }
                Value::F32(f)
            }
            (FieldType::F64, J::Number(n)) => Value::F64(n.as_f64().ok_or_else(bad)?),
            (FieldType::Bool, J::Bool(b)) => Value::Bool(b),
            (FieldType::Text, J::String(s)) => Value::Text(checked_text(&s)?),
            (
                FieldType::DateTime | FieldType::Date | FieldType::Uuid | FieldType::Decimal,
                J::String(s),
            ) => Value::parse(ty, &s)?,
            (FieldType::Enum(_), J::String(s)) => Value::parse(ty, &s)?,
            // Read from the number's text (a body reads a decimal's text before it becomes
            // a float: see `body.rs`).
            (FieldType::Decimal, J::Number(n)) => Value::parse(ty, &n.to_string())?,
            (FieldType::Json, v) => Value::Json(Box::new(v)),
            (FieldType::Array(item), v) => Value::Array(Box::new(Array::from_json(item, v)?)),
            _ => return Err(bad()),
        })
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_owned())
    }
}

/// `None` is SQL `NULL`; where it is written, the field's type replaces the placeholder type.
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::Null(FieldType::Text), Into::into)
    }
}

/// The one table of supported types: each gets its `FieldKind` and its `Value` conversion.
macro_rules! kinds {
    ($($t:ty => $v:ident),* $(,)?) => {
        $(
            impl FieldKind for $t {
                const TYPE: FieldType = FieldType::$v;
            }
            impl From<$t> for Value {
                fn from(x: $t) -> Value {
                    Value::$v(x.into())
                }
            }
        )*
    };
}

kinds! {
    i16 => I16,
    i32 => I32,
    i64 => I64,
    f32 => F32,
    f64 => F64,
    bool => Bool,
    String => Text,
    chrono::DateTime<chrono::Utc> => DateTime,
    chrono::NaiveDate => Date,
    uuid::Uuid => Uuid,
    serde_json::Value => Json,
    rust_decimal::Decimal => Decimal,
}

/// The array types: each `Vec<T>` gets its `FieldKind` and its `Value` conversion.
macro_rules! arrays {
    ($($t:ty => $v:ident),* $(,)?) => {
        $(
            impl FieldKind for Vec<$t> {
                const TYPE: FieldType = FieldType::Array(ArrayItem::$v);
            }
            impl From<Vec<$t>> for Value {
                fn from(x: Vec<$t>) -> Value {
                    Value::Array(Box::new(Array::$v(x)))
                }
            }
        )*
    };
}

arrays! {
    String => Text,
    i32 => I32,
    i64 => I64,
    f64 => F64,
    bool => Bool,
}

/// Converts a value to a field's type where that loses nothing.
pub(crate) fn coerce(v: Value, ty: FieldType, nullable: bool) -> Option<Value> {
    Some(match (v, ty) {
        (Value::Null(_), ty) if nullable => Value::Null(ty),
        (Value::Null(_), _) => return None,
        (Value::I16(x), FieldType::I16) => Value::I16(x),
        (Value::I16(x), FieldType::I32) => Value::I32(x.into()),
        (Value::I16(x), FieldType::I64) => Value::I64(x.into()),
        (Value::I32(x), FieldType::I16) => Value::I16(x.try_into().ok()?),
        (Value::I32(x), FieldType::I32) => Value::I32(x),
        (Value::I32(x), FieldType::I64) => Value::I64(x.into()),
        (Value::I64(x), FieldType::I16) => Value::I16(x.try_into().ok()?),
        (Value::I64(x), FieldType::I32) => Value::I32(x.try_into().ok()?),
        (Value::I64(x), FieldType::I64) => Value::I64(x),
        (Value::F32(x), FieldType::F32) => Value::F32(x),
        (Value::F32(x), FieldType::F64) => Value::F64(x.into()),
        (Value::F64(x), FieldType::F64) => Value::F64(x),
        (v @ Value::Bool(_), FieldType::Bool)
        | (v @ Value::Text(_), FieldType::Text)
        | (v @ Value::DateTime(_), FieldType::DateTime)
        | (v @ Value::Date(_), FieldType::Date)
        | (v @ Value::Uuid(_), FieldType::Uuid)
        | (v @ Value::Json(_), FieldType::Json)
        | (v @ Value::Decimal(_), FieldType::Decimal) => v,
        (Value::Text(t), FieldType::Enum(names)) if names.contains(&t.as_str()) => Value::Text(t),
        (Value::Array(a), FieldType::Array(item)) if a.item() == item => Value::Array(a),
        (Value::I16(x), FieldType::Decimal) => Value::Decimal(x.into()),
        (Value::I32(x), FieldType::Decimal) => Value::Decimal(x.into()),
        (Value::I64(x), FieldType::Decimal) => Value::Decimal(x.into()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_small() {
        // Values are moved into statements' arguments and requests' states; a JSON
        // document, the one large kind, is boxed.
        assert!(
            std::mem::size_of::<Value>() <= 32,
            "{}",
            std::mem::size_of::<Value>()
        );
    }

    #[test]
    fn integers_may_be_written_with_a_zero_fraction() {
        let j = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        assert_eq!(
            Value::from_json(FieldType::I32, false, j("36.0")),
            Ok(Value::I32(36))
        );
        assert!(Value::from_json(FieldType::I32, false, j("36.5")).is_err());
        assert!(Value::from_json(FieldType::I32, false, j("3000000000")).is_err());
        assert!(Value::from_json(FieldType::I64, false, j("1e19")).is_err());
        // Rounded to -2^63 when read as a float: refused, not stored as i64::MIN.
        assert!(Value::from_json(FieldType::I64, false, j("-9223372036854775809")).is_err());
        assert!(Value::from_json(FieldType::I64, false, j("9007199254740993.0")).is_err());
        assert_eq!(
            Value::from_json(FieldType::I64, false, j("-9223372036854775808")),
            Ok(Value::I64(i64::MIN))
        );
        assert_eq!(
            Value::from_json(FieldType::I64, false, j("-1e3")),
            Ok(Value::I64(-1000))
        );
    }

    #[test]
    fn array_literals_and_json_arrays() {
        let text = |s: &str| Array::parse(ArrayItem::Text, s);
        let strings = |v: &[&str]| Ok(Array::Text(v.iter().map(|s| s.to_string()).collect()));
        assert_eq!(text("{a,b}"), strings(&["a", "b"]));
        assert_eq!(text("{}"), strings(&[]));
        assert_eq!(
            text("{ a , \"b,c\" ,\"d\\\"e\"}"),
            strings(&["a", "b,c", "d\"e"])
        );
        assert_eq!(text("{\"\"}"), strings(&[""]));
        assert_eq!(text("{\"NULL\"}"), strings(&["NULL"]));
        for bad in ["a,b", "{a", "{NULL}", "{{a}}", "{\"a}", "{\"a\"b}"] {
            assert!(text(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Array::parse(ArrayItem::I64, "{1, -2}"),
            Ok(Array::I64(vec![1, -2]))
        );
        let e = Array::parse(ArrayItem::I32, "{1,x}").unwrap_err();
        assert!(e.0.starts_with("item 1: expected"), "{e:?}");
        let j = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        assert_eq!(
            Value::from_json(FieldType::Array(ArrayItem::Bool), false, j("[true,false]")),
            Ok(Value::from(vec![true, false]))
        );
        let e = Value::from_json(FieldType::Array(ArrayItem::Text), false, j("[\"a\",null]"));
        assert_eq!(e, Err(ValueError("item 1: must not be null".into())));
        assert!(Value::from_json(FieldType::Array(ArrayItem::F64), false, j("1")).is_err());
        assert_eq!(Array::F64(vec![1.5]).to_json(), j("[1.5]"));
    }

    #[test]
    fn coercion_widens_and_checks_ranges() {
        assert_eq!(
            coerce(Value::I32(5), FieldType::I64, false),
            Some(Value::I64(5))
        );
        assert_eq!(coerce(Value::I64(1 << 40), FieldType::I32, false), None);
        assert_eq!(
            coerce(Value::Null(FieldType::Text), FieldType::I32, true),
            Some(Value::Null(FieldType::I32))
        );
        assert_eq!(
            coerce(Value::Null(FieldType::Text), FieldType::I32, false),
            None
        );
        assert_eq!(coerce(Value::Text("x".into()), FieldType::I32, false), None);
    }
}
