//! Binding values and decoding rows, once per backend.
//!
//! The body of each method is the same text for every backend; a macro instantiates it with
//! the concrete sqlx types, which keeps the rest of the runtime generic over [`Driver`]
//! without sqlx's per-type trait bounds.

use super::row::{unsupported, Row as UserRow, UNKNOWN_NULL};
use super::Dialect;
use crate::field_type::{ArrayItem, FieldType};
use crate::value::{Array, Value};
use futures_core::future::BoxFuture as BoxFut;
use sqlx::{Column as _, Database, Row, TypeInfo as _, ValueRef as _};
use std::sync::Arc;

/// A backend transaction, held by a hook context while hooks run.
pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    MySql(sqlx::Transaction<'static, sqlx::MySql>),
}

/// What an `INSERT`, `UPDATE` or `DELETE` reports.
pub(crate) struct Executed {
    pub(crate) rows: u64,
    pub(crate) last_insert_id: Option<i64>,
}

/// One sqlx database the runtime can drive.
pub(crate) trait Driver: Database {
    const DIALECT: &'static Dialect;

    /// Runs a statement and hands each row to `f`: as it arrives from PostgreSQL and MySQL
    /// (read from the connection's socket in the request's task: lists render rows as they
    /// stream in, rather than collect them first). SQLite's rows are made on the
    /// connection's worker thread and sent to the request's task one by one; they are
    /// collected, then rendered after the last: rendering each row while the worker made
    /// the next one on the other core cost 10–15 % more CPU per request at 32 connections,
    /// and 3–8 % of the throughput at one (`bench/PROFILE.md`). The rows of a page are held
    /// either way (sqlx's row channel holds a page of 1 000).
    fn fetch_each<'e>(
        conn: &'e mut Self::Connection,
        sql: &'e str,
        args: &'e [Value],
        f: &'e mut (dyn FnMut(&Self::Row) -> Result<(), sqlx::Error> + Send),
    ) -> BoxFut<'e, Result<(), sqlx::Error>>;

    /// The first row of a single-row statement (by key, a write's `RETURNING`, a count).
    fn fetch_optional<'e>(
        conn: &'e mut Self::Connection,
        sql: &'e str,
        args: &'e [Value],
    ) -> BoxFut<'e, Result<Option<Self::Row>, sqlx::Error>>;

    /// [`Self::fetch_optional`] on a connection of the pool, taken for this statement only
    /// (sqlx's own pooled executor: the connection's wait is in sqlx's future, not in the
    /// caller's state).
    fn fetch_optional_pooled<'e>(
        pool: &'e sqlx::Pool<Self>,
        sql: &'e str,
        args: &'e [Value],
    ) -> BoxFut<'e, Result<Option<Self::Row>, sqlx::Error>>;

    fn execute<'e>(
        conn: &'e mut Self::Connection,
        sql: &'e str,
        args: &'e [Value],
    ) -> BoxFut<'e, Result<Executed, sqlx::Error>>;

    /// Writes column `i` of `row` as JSON.
    fn write_json(
        row: &Self::Row,
        i: usize,
        ty: FieldType,
        out: &mut Vec<u8>,
    ) -> Result<(), sqlx::Error>;

    /// Reads column `i` of a model's row as a [`Value`] of the field's type (as
    /// [`Driver::write_json`] reads it; `NULL` as `Value::Null`).
    fn read_field(row: &Self::Row, i: usize, ty: FieldType) -> Result<Value, sqlx::Error>;

    /// Whether column `i` is `NULL`.
    fn is_null(row: &Self::Row, i: usize) -> Result<bool, sqlx::Error>;

    /// Reads column `i` as an integer (counts).
    fn get_i64(row: &Self::Row, i: usize) -> Result<i64, sqlx::Error>;

    /// Reads column `i` as text (`NULL`: `None`).
    fn get_text(row: &Self::Row, i: usize) -> Result<Option<String>, sqlx::Error>;

    /// Column `i` of a user query's row as a [`Value`], by the column's (or, on SQLite, the
    /// value's) SQL type.
    fn decode_column(row: &Self::Row, i: usize) -> Result<Value, sqlx::Error>;

    /// A user query's row, owned; `names`: the columns' names when an earlier row of the
    /// statement gave them.
    fn to_row(row: &Self::Row, names: &mut Option<Arc<[String]>>) -> Result<UserRow, sqlx::Error> {
        use sqlx::Column as _;
        let names = names
            .get_or_insert_with(|| row.columns().iter().map(|c| c.name().to_owned()).collect())
            .clone();
        let values = (0..row.len())
            .map(|i| Self::decode_column(row, i))
            .collect::<Result<_, _>>()?;
        Ok(UserRow::with_names(names, values))
    }

    /// The planner's estimate of a statement's rows, from the first row of the dialect's
    /// `explain` of it.
    fn planned_rows(row: &Self::Row) -> Result<u64, sqlx::Error>;

    /// Puts a transaction where hooks can use it.
    fn wrap_tx(tx: sqlx::Transaction<'static, Self>) -> Tx;

    /// Takes it back.
    fn unwrap_tx(tx: Tx) -> Option<sqlx::Transaction<'static, Self>>;

    /// The pool as SQLite's, on SQLite (whose writes queue in the process).
    fn as_sqlite(pool: &sqlx::Pool<Self>) -> Option<&sqlx::SqlitePool>;
}

fn json_to(out: &mut Vec<u8>, v: &impl serde::Serialize) -> Result<(), sqlx::Error> {
    serde_json::to_writer(out, v).map_err(json_error)
}

fn json_error(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

fn no_estimate(what: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("the planner's answer has no row estimate: {what}"))
}

/// An estimate as a row count (the planners' figures are never negative; PostgreSQL's are
/// whole numbers written as JSON numbers, MySQL's a product with a percentage).
fn whole_rows(x: f64) -> u64 {
    x.max(0.0).round() as u64
}

macro_rules! backend {
    ($db:ty, $variant:ident, $dialect:expr, $last_id:expr, $text_unchecked:expr, $as_sqlite:expr, $planned:expr, $decode:expr, $collect:expr) => {
        impl Driver for $db {
            const DIALECT: &'static Dialect = &$dialect;

            fn fetch_each<'e>(
                conn: &'e mut Self::Connection,
                sql: &'e str,
                args: &'e [Value],
                f: &'e mut (dyn FnMut(&Self::Row) -> Result<(), sqlx::Error> + Send),
            ) -> BoxFut<'e, Result<(), sqlx::Error>> {
                // In the request's task (sqlx logs SQLite's statements on its worker thread):
                // what a test counts the statements of one request by.
                tracing::trace!(target: "expose_runtime::rows", rows_of = sql);
                Box::pin(async move {
                    let q = sqlx::query_with::<$db, _>(sql, bind_all(args)?);
                    // Rows kept to render after the last (SQLite), else none.
                    let collect: bool = $collect;
                    let mut rows = q.fetch(&mut *conn);
                    let mut collected = Vec::new();
                    while let Some(row) = std::future::poll_fn(|cx| {
                        futures_core::Stream::poll_next(rows.as_mut(), cx)
                    })
                    .await
                    {
                        match (collect, row?) {
                            (true, row) => collected.push(row),
                            (false, row) => f(&row)?,
                        }
                    }
                    drop(rows);
                    collected.iter().try_for_each(|row| f(row))
                })
            }

            fn fetch_optional<'e>(
                conn: &'e mut Self::Connection,
                sql: &'e str,
                args: &'e [Value],
            ) -> BoxFut<'e, Result<Option<Self::Row>, sqlx::Error>> {
                Box::pin(async move {
                    let q = sqlx::query_with::<$db, _>(sql, bind_all(args)?);
                    q.fetch_optional(&mut *conn).await
                })
            }

            fn fetch_optional_pooled<'e>(
                pool: &'e sqlx::Pool<Self>,
                sql: &'e str,
                args: &'e [Value],
            ) -> BoxFut<'e, Result<Option<Self::Row>, sqlx::Error>> {
                match bind_all(args) {
                    Ok(args) => {
                        sqlx::Executor::fetch_optional(pool, sqlx::query_with::<$db, _>(sql, args))
                    }
                    Err(e) => Box::pin(std::future::ready(Err(e))),
                }
            }

            fn execute<'e>(
                conn: &'e mut Self::Connection,
                sql: &'e str,
                args: &'e [Value],
            ) -> BoxFut<'e, Result<Executed, sqlx::Error>> {
                Box::pin(async move {
                    let q = sqlx::query_with::<$db, _>(sql, bind_all(args)?);
                    let r = q.execute(&mut *conn).await?;
                    let last: fn(&<$db as Database>::QueryResult) -> Option<i64> = $last_id;
                    Ok(Executed {
                        rows: r.rows_affected(),
                        last_insert_id: last(&r),
                    })
                })
            }

            fn write_json(
                row: &Self::Row,
                i: usize,
                ty: FieldType,
                out: &mut Vec<u8>,
            ) -> Result<(), sqlx::Error> {
                match ty {
                    FieldType::I16 => json_to(out, &row.try_get::<Option<i16>, _>(i)?),
                    FieldType::I32 => json_to(out, &row.try_get::<Option<i32>, _>(i)?),
                    FieldType::I64 => json_to(out, &row.try_get::<Option<i64>, _>(i)?),
                    FieldType::F32 => json_to(out, &row.try_get::<Option<f32>, _>(i)?),
                    FieldType::F64 => json_to(out, &row.try_get::<Option<f64>, _>(i)?),
                    FieldType::Bool => json_to(out, &row.try_get::<Option<bool>, _>(i)?),
                    // MySQL reports columns of a binary collation (utf8mb4_bin) as VARBINARY;
                    // their bytes are still the column's text, checked as UTF-8 on decode.
                    // The column's type is the model's, so MySQL reads it unchecked instead
                    // of building (and dropping) a type-mismatch error for every value.
                    FieldType::Text if $text_unchecked => {
                        json_to(out, &row.try_get_unchecked::<Option<&str>, _>(i)?)
                    }
                    FieldType::Text => json_to(out, &row.try_get::<Option<&str>, _>(i)?),
                    // chrono's text, written without the formatting machinery.
                    FieldType::DateTime => {
                        match row.try_get::<Option<chrono::DateTime<chrono::Utc>>, _>(i)? {
                            Some(t) => crate::rfc3339::write_datetime(out, &t).map_err(json_error),
                            None => json_to(out, &()),
                        }
                    }
                    FieldType::Date => match row.try_get::<Option<chrono::NaiveDate>, _>(i)? {
                        Some(d) => crate::rfc3339::write_date(out, d).map_err(json_error),
                        None => json_to(out, &()),
                    },
                    FieldType::Uuid => json_to(out, &row.try_get::<Option<uuid::Uuid>, _>(i)?),
                    FieldType::Json => json_to(
                        out,
                        &row.try_get::<Option<sqlx::types::Json<serde_json::Value>>, _>(i)?,
                    ),
                    // The decimal's text as a JSON number token: exact, as PostgREST answers.
                    FieldType::Decimal => match get_decimal(row, i)? {
                        Some(d) => {
                            crate::decimal::write_json(out, &d);
                            Ok(())
                        }
                        None => json_to(out, &()),
                    },
                    // Stored as text: the text, unchecked as `Text` is on MySQL.
                    FieldType::Enum(_) if $text_unchecked => {
                        json_to(out, &row.try_get_unchecked::<Option<&str>, _>(i)?)
                    }
                    FieldType::Enum(_) => json_to(out, &row.try_get::<Option<&str>, _>(i)?),
                    FieldType::Array(item) => match get_array(row, i, item)? {
                        Some(a) => json_to(out, &a.to_json()),
                        None => json_to(out, &()),
                    },
                }
            }

            fn read_field(row: &Self::Row, i: usize, ty: FieldType) -> Result<Value, sqlx::Error> {
                fn or_null<T>(v: Option<T>, ty: FieldType, f: fn(T) -> Value) -> Value {
                    v.map_or(Value::Null(ty), f)
                }
                Ok(match ty {
                    FieldType::I16 => or_null(row.try_get(i)?, ty, Value::I16),
                    FieldType::I32 => or_null(row.try_get(i)?, ty, Value::I32),
                    FieldType::I64 => or_null(row.try_get(i)?, ty, Value::I64),
                    FieldType::F32 => or_null(row.try_get(i)?, ty, Value::F32),
                    FieldType::F64 => or_null(row.try_get(i)?, ty, Value::F64),
                    FieldType::Bool => or_null(row.try_get(i)?, ty, Value::Bool),
                    FieldType::Text if $text_unchecked => {
                        or_null(row.try_get_unchecked(i)?, ty, Value::Text)
                    }
                    FieldType::Text => or_null(row.try_get(i)?, ty, Value::Text),
                    FieldType::DateTime => or_null(row.try_get(i)?, ty, Value::DateTime),
                    FieldType::Date => or_null(row.try_get(i)?, ty, Value::Date),
                    FieldType::Uuid => or_null(row.try_get(i)?, ty, Value::Uuid),
                    FieldType::Json => or_null(
                        row.try_get::<Option<sqlx::types::Json<serde_json::Value>>, _>(i)?,
                        ty,
                        |j| Value::Json(Box::new(j.0)),
                    ),
                    FieldType::Decimal => or_null(get_decimal(row, i)?, ty, Value::Decimal),
                    // Stored as text: the text, unchecked as `Text` is on MySQL.
                    FieldType::Enum(_) if $text_unchecked => {
                        or_null(row.try_get_unchecked(i)?, ty, Value::Text)
                    }
                    FieldType::Enum(_) => or_null(row.try_get(i)?, ty, Value::Text),
                    FieldType::Array(item) => {
                        or_null(get_array(row, i, item)?, ty, |a| Value::Array(Box::new(a)))
                    }
                })
            }

            fn is_null(row: &Self::Row, i: usize) -> Result<bool, sqlx::Error> {
                Ok(row.try_get_raw(i)?.is_null())
            }

            fn get_i64(row: &Self::Row, i: usize) -> Result<i64, sqlx::Error> {
                row.try_get::<i64, _>(i)
            }

            fn get_text(row: &Self::Row, i: usize) -> Result<Option<String>, sqlx::Error> {
                // As `write_json` reads text (MySQL's binary collations).
                match $text_unchecked {
                    true => row.try_get_unchecked::<Option<String>, _>(i),
                    false => row.try_get::<Option<String>, _>(i),
                }
            }

            fn decode_column(row: &Self::Row, i: usize) -> Result<Value, sqlx::Error> {
                if row.try_get_raw(i)?.is_null() {
                    return Ok(Value::Null(UNKNOWN_NULL));
                }
                let f: fn(&Self::Row, usize) -> Result<Value, sqlx::Error> = $decode;
                f(row, i)
            }

            fn planned_rows(row: &Self::Row) -> Result<u64, sqlx::Error> {
                let f: fn(&Self::Row) -> Result<u64, sqlx::Error> = $planned;
                f(row)
            }

            fn wrap_tx(tx: sqlx::Transaction<'static, Self>) -> Tx {
                Tx::$variant(tx)
            }

            fn as_sqlite(pool: &sqlx::Pool<Self>) -> Option<&sqlx::SqlitePool> {
                let f: fn(&sqlx::Pool<Self>) -> Option<&sqlx::SqlitePool> = $as_sqlite;
                f(pool)
            }

            fn unwrap_tx(tx: Tx) -> Option<sqlx::Transaction<'static, Self>> {
                match tx {
                    Tx::$variant(tx) => Some(tx),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        }
    };
}

macro_rules! binder {
    ($name:ident, $db:ty) => {
        /// The statement's arguments, added in place (binding through `Query::bind` moves
        /// the whole query once per value).
        fn $name<'q>(args: &'q [Value]) -> Result<<$db as Database>::Arguments<'q>, sqlx::Error> {
            use sqlx::Arguments as _;
            let mut a = <<$db as Database>::Arguments<'q>>::default();
            a.reserve(args.len(), 8 * args.len());
            for v in args {
                match v {
                    Value::Null(ty) => match ty {
                        FieldType::I16 => a.add(None::<i16>),
                        FieldType::I32 => a.add(None::<i32>),
                        FieldType::I64 => a.add(None::<i64>),
                        FieldType::F32 => a.add(None::<f32>),
                        FieldType::F64 => a.add(None::<f64>),
                        FieldType::Bool => a.add(None::<bool>),
                        FieldType::Text | FieldType::Enum(_) => a.add(None::<&str>),
                        FieldType::Decimal => a.add(None::<DecimalArg>),
                        FieldType::DateTime => a.add(None::<chrono::DateTime<chrono::Utc>>),
                        FieldType::Date => a.add(None::<chrono::NaiveDate>),
                        FieldType::Uuid => a.add(None::<uuid::Uuid>),
                        FieldType::Json => a.add(None::<sqlx::types::Json<&serde_json::Value>>),
                        FieldType::Array(item) => add_array(&mut a, *item, None),
                    },
                    Value::I16(x) => a.add(*x),
                    Value::I32(x) => a.add(*x),
                    Value::I64(x) => a.add(*x),
                    Value::F32(x) => a.add(*x),
                    Value::F64(x) => a.add(*x),
                    Value::Bool(x) => a.add(*x),
                    Value::Text(x) => a.add(x.as_str()),
                    Value::DateTime(x) => a.add(*x),
                    Value::Date(x) => a.add(*x),
                    Value::Uuid(x) => a.add(*x),
                    Value::Json(x) => a.add(sqlx::types::Json(&**x)),
                    Value::Decimal(x) => a.add(decimal_arg(x)),
                    Value::Array(x) => add_array(&mut a, x.item(), Some(x)),
                }
                .map_err(sqlx::Error::Encode)?;
            }
            Ok(a)
        }
    };
}

/// The array codec of a backend with no array type: an array is stored as a JSON array
/// (`TEXT` on SQLite, `JSON` on MySQL), bound as its JSON text and read back from it;
/// anything else in the column is a decode error. Expands in the backend's module, where
/// `DB` names its database.
macro_rules! json_arrays {
    () => {
        fn add_array<'q>(
            a: &mut <DB as Database>::Arguments<'q>,
            _item: ArrayItem,
            x: Option<&'q Array>,
        ) -> Result<(), sqlx::error::BoxDynError> {
            use sqlx::Arguments as _;
            a.add(x.map(|x| sqlx::types::Json(x.to_json())))
        }

        fn get_array(
            row: &<DB as Database>::Row,
            i: usize,
            item: ArrayItem,
        ) -> Result<Option<Array>, sqlx::Error> {
            let Some(json) =
                row.try_get_unchecked::<Option<sqlx::types::Json<serde_json::Value>>, _>(i)?
            else {
                return Ok(None);
            };
            Array::from_json(item, json.0).map(Some).map_err(|e| {
                sqlx::Error::Decode(
                    format!("column {i} is not a JSON array of its items: {}", e.0).into(),
                )
            })
        }
    };
}

mod sqlite {
    use super::*;
    type DB = sqlx::Sqlite;
    binder!(bind_all, sqlx::Sqlite);

    json_arrays!();

    /// SQLite has no decimal type: a decimal is bound as its text (a `TEXT` column keeps
    /// it exactly; `decimal.rs`).
    type DecimalArg = String;
    fn decimal_arg(d: &rust_decimal::Decimal) -> String {
        d.to_string()
    }

    /// A decimal stored as text (or, in a column of another affinity, as a number: read as
    /// SQLite writes it, and refused when it is not a decimal).
    fn get_decimal(
        row: &sqlx::sqlite::SqliteRow,
        i: usize,
    ) -> Result<Option<rust_decimal::Decimal>, sqlx::Error> {
        let Some(t) = row.try_get_unchecked::<Option<&str>, _>(i)? else {
            return Ok(None);
        };
        crate::decimal::parse(t)
            .or_else(|| rust_decimal::Decimal::from_scientific(t).ok())
            .map(Some)
            .ok_or_else(|| {
                let e = format!("column {i} holds {t:?}, which is not a decimal");
                sqlx::Error::Decode(e.into())
            })
    }

    backend!(
        sqlx::Sqlite,
        Sqlite,
        Dialect::SQLITE,
        |r| Some(r.last_insert_rowid()),
        false,
        |p| Some(p),
        // Never asked: SQLite's dialect has no `explain`.
        |_| Err(no_estimate("SQLite keeps none")),
        decode,
        // Rows collected, then rendered: see `Driver::fetch_each`.
        true
    );

    /// By the value's storage class, refined by the column's declared type (`BOOLEAN`,
    /// `DATETIME`, `DATE`, `UUID`, `JSON` are stored as integers or text).
    fn decode(row: &sqlx::sqlite::SqliteRow, i: usize) -> Result<Value, sqlx::Error> {
        let stored = row.try_get_raw(i)?.type_info().name().to_owned();
        let col = &row.columns()[i];
        let declared = col.type_info().name().to_ascii_uppercase();
        Ok(match (stored.as_str(), declared.as_str()) {
            ("INTEGER", "BOOLEAN") => Value::Bool(row.try_get(i)?),
            ("INTEGER", _) => Value::I64(row.try_get(i)?),
            ("REAL", _) => Value::F64(row.try_get(i)?),
            ("TEXT", "DATETIME" | "TIMESTAMP") => Value::DateTime(row.try_get(i)?),
            ("TEXT", "DATE") => Value::Date(row.try_get(i)?),
            ("TEXT", "UUID") => {
                let t: String = row.try_get_unchecked(i)?;
                Value::Uuid(t.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?)
            }
            ("TEXT", "JSON") => Value::Json(Box::new(row.try_get::<sqlx::types::Json<_>, _>(i)?.0)),
            ("TEXT", _) => Value::Text(row.try_get_unchecked(i)?),
            (t, _) => return Err(unsupported(col.name(), t)),
        })
    }
}

mod postgres {
    use super::*;
    binder!(bind_all, sqlx::Postgres);

    /// A native array (`TEXT[]`, `BIGINT[]`, ...).
    fn add_array(
        a: &mut sqlx::postgres::PgArguments,
        item: ArrayItem,
        x: Option<&Array>,
    ) -> Result<(), sqlx::error::BoxDynError> {
        use sqlx::Arguments as _;
        match (x, item) {
            (Some(Array::Text(v)), _) => a.add(v.as_slice()),
            (Some(Array::I32(v)), _) => a.add(v.as_slice()),
            (Some(Array::I64(v)), _) => a.add(v.as_slice()),
            (Some(Array::F64(v)), _) => a.add(v.as_slice()),
            (Some(Array::Bool(v)), _) => a.add(v.as_slice()),
            (None, ArrayItem::Text) => a.add(None::<&[String]>),
            (None, ArrayItem::I32) => a.add(None::<&[i32]>),
            (None, ArrayItem::I64) => a.add(None::<&[i64]>),
            (None, ArrayItem::F64) => a.add(None::<&[f64]>),
            (None, ArrayItem::Bool) => a.add(None::<&[bool]>),
        }
    }

    fn get_array(
        row: &sqlx::postgres::PgRow,
        i: usize,
        item: ArrayItem,
    ) -> Result<Option<Array>, sqlx::Error> {
        Ok(match item {
            ArrayItem::Text => row.try_get::<Option<Vec<String>>, _>(i)?.map(Array::Text),
            ArrayItem::I32 => row.try_get::<Option<Vec<i32>>, _>(i)?.map(Array::I32),
            ArrayItem::I64 => row.try_get::<Option<Vec<i64>>, _>(i)?.map(Array::I64),
            ArrayItem::F64 => row.try_get::<Option<Vec<f64>>, _>(i)?.map(Array::F64),
            ArrayItem::Bool => row.try_get::<Option<Vec<bool>>, _>(i)?.map(Array::Bool),
        })
    }

    type DecimalArg = rust_decimal::Decimal;
    fn decimal_arg(d: &rust_decimal::Decimal) -> rust_decimal::Decimal {
        *d
    }
    fn get_decimal(
        row: &<sqlx::Postgres as Database>::Row,
        i: usize,
    ) -> Result<Option<rust_decimal::Decimal>, sqlx::Error> {
        row.try_get(i)
    }
    backend!(
        sqlx::Postgres,
        Postgres,
        Dialect::POSTGRES,
        |_| None,
        false,
        |_| None,
        // `EXPLAIN (FORMAT JSON)`: one row, one `json` column, `[{"Plan": {"Plan Rows": n}}]`.
        |row| {
            let plan = row.try_get::<sqlx::types::Json<serde_json::Value>, _>(0)?;
            plan.0[0]["Plan"]["Plan Rows"]
                .as_f64()
                .map(whole_rows)
                .ok_or_else(|| no_estimate(&plan.0.to_string()))
        },
        decode,
        false
    );

    fn decode(row: &sqlx::postgres::PgRow, i: usize) -> Result<Value, sqlx::Error> {
        let col = &row.columns()[i];
        Ok(match col.type_info().name() {
            "INT2" => Value::I16(row.try_get(i)?),
            "INT4" => Value::I32(row.try_get(i)?),
            "INT8" => Value::I64(row.try_get(i)?),
            "FLOAT4" => Value::F32(row.try_get(i)?),
            "FLOAT8" => Value::F64(row.try_get(i)?),
            "BOOL" => Value::Bool(row.try_get(i)?),
            "TEXT" | "VARCHAR" | "BPCHAR" | "CHAR" | "NAME" | "CITEXT" => {
                Value::Text(row.try_get_unchecked(i)?)
            }
            // A `TIMESTAMP` (without time zone) is read as UTC.
            "TIMESTAMPTZ" | "TIMESTAMP" => Value::DateTime(row.try_get_unchecked(i)?),
            "DATE" => Value::Date(row.try_get(i)?),
            "UUID" => Value::Uuid(row.try_get(i)?),
            "NUMERIC" => Value::Decimal(row.try_get(i)?),
            "JSON" | "JSONB" => Value::Json(Box::new(row.try_get::<sqlx::types::Json<_>, _>(i)?.0)),
            "TEXT[]" | "VARCHAR[]" => Value::from(row.try_get::<Vec<String>, _>(i)?),
            "INT4[]" => Value::from(row.try_get::<Vec<i32>, _>(i)?),
            "INT8[]" => Value::from(row.try_get::<Vec<i64>, _>(i)?),
            "FLOAT8[]" => Value::from(row.try_get::<Vec<f64>, _>(i)?),
            "BOOL[]" => Value::from(row.try_get::<Vec<bool>, _>(i)?),
            t => return Err(unsupported(col.name(), t)),
        })
    }
}

mod mysql {
    use super::*;
    type DB = sqlx::MySql;
    binder!(bind_all, sqlx::MySql);

    json_arrays!();

    type DecimalArg = rust_decimal::Decimal;
    fn decimal_arg(d: &rust_decimal::Decimal) -> rust_decimal::Decimal {
        *d
    }
    fn get_decimal(
        row: &<sqlx::MySql as Database>::Row,
        i: usize,
    ) -> Result<Option<rust_decimal::Decimal>, sqlx::Error> {
        row.try_get(i)
    }
    backend!(
        sqlx::MySql,
        MySql,
        Dialect::MYSQL,
        |r| i64::try_from(r.last_insert_id()).ok(),
        true,
        |_| None,
        planned_rows,
        decode,
        false
    );

    /// Integers of every width (unsigned ones that fit `i64`), and `DECIMAL` (what `SUM`
    /// returns) as an integer when it is whole, else a `Decimal` (a float past a
    /// `Decimal`'s range); text of a binary collation is
    /// reported as binary and read as text.
    fn decode(row: &sqlx::mysql::MySqlRow, i: usize) -> Result<Value, sqlx::Error> {
        let col = &row.columns()[i];
        let name = col.type_info().name();
        Ok(match name {
            "BOOLEAN" => Value::Bool(row.try_get(i)?),
            "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" => {
                Value::I64(row.try_get_unchecked(i)?)
            }
            "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED"
            | "BIGINT UNSIGNED" => {
                let v: u64 = row.try_get_unchecked(i)?;
                Value::I64(
                    v.try_into()
                        .map_err(|_| unsupported(col.name(), "BIGINT UNSIGNED above i64"))?,
                )
            }
            "FLOAT" => Value::F32(row.try_get(i)?),
            "DOUBLE" => Value::F64(row.try_get(i)?),
            "DECIMAL" => {
                let t: String = row.try_get_unchecked(i)?;
                match (
                    t.parse::<i64>(),
                    crate::decimal::parse(&t),
                    t.parse::<f64>(),
                ) {
                    (Ok(n), _, _) => Value::I64(n),
                    (_, Some(d), _) => Value::Decimal(d),
                    (_, _, Ok(x)) => Value::F64(x),
                    _ => return Err(unsupported(col.name(), "DECIMAL")),
                }
            }
            "DATETIME" | "TIMESTAMP" => Value::DateTime(row.try_get(i)?),
            "DATE" => Value::Date(row.try_get(i)?),
            "JSON" => Value::Json(Box::new(row.try_get::<sqlx::types::Json<_>, _>(i)?.0)),
            "VARCHAR" | "CHAR" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "VARBINARY"
            | "BINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "ENUM" => {
                Value::Text(row.try_get_unchecked(i)?)
            }
            t => return Err(unsupported(col.name(), t)),
        })
    }

    /// `EXPLAIN`'s first row (one table, one row): `rows` is the rows the plan reads (`NULL`
    /// when the optimiser found the condition impossible); MySQL adds `filtered`, the
    /// percentage of them its condition keeps, which MariaDB shows only under `EXPLAIN
    /// EXTENDED` (a syntax MySQL 8 refuses), so on MariaDB a condition no index serves
    /// counts every row the scan reads.
    fn planned_rows(row: &sqlx::mysql::MySqlRow) -> Result<u64, sqlx::Error> {
        let Some(rows) = number(row, "rows")? else {
            return Ok(0);
        };
        let kept = match row.try_column("filtered") {
            Ok(_) => number(row, "filtered")?.unwrap_or(100.0),
            Err(_) => 100.0,
        };
        Ok(whole_rows(rows * kept / 100.0))
    }

    /// A column of `EXPLAIN` as a number: MariaDB reports `rows` as text, MySQL as
    /// `BIGINT UNSIGNED` (and `filtered` as a float).
    fn number(row: &sqlx::mysql::MySqlRow, name: &str) -> Result<Option<f64>, sqlx::Error> {
        if let Ok(t) = row.try_get::<Option<&str>, _>(name) {
            return t
                .map(|t| t.trim().parse::<f64>())
                .transpose()
                .map_err(|_| no_estimate(&format!("`{name}` is {t:?}")));
        }
        if let Ok(v) = row.try_get::<Option<u64>, _>(name) {
            return Ok(v.map(|v| v as f64));
        }
        row.try_get::<Option<f64>, _>(name)
    }
}
