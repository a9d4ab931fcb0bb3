//! Which SQL column types hold each field type, on each backend: the one table that both
//! the start-up check ([`verify`](crate::verify())) and the DDL ([`Model::create_table`](crate::Model::create_table))
//! read. A new field type is one more arm of [`column_type`].

use crate::db::Backend;
use crate::field_type::{ArrayItem, FieldType};

/// The SQL side of one field type on one backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColumnType {
    /// The Rust type, for messages (`i32`, `chrono::DateTime<Utc>`).
    pub(crate) rust: &'static str,
    /// The type the DDL writes.
    pub(crate) ddl: &'static str,
    /// The catalog type names that hold the field, lowercase and without a length
    /// (PostgreSQL `udt_name`, MySQL `DATA_TYPE`, SQLite's declared type).
    pub(crate) accepts: &'static [&'static str],
}

/// SQLite's declared types that hold text (its TEXT affinity, and what sqlx decodes as text).
const SQLITE_TEXT: &[&str] = &[
    "text",
    "varchar",
    "char",
    "character",
    "nvarchar",
    "nchar",
    "clob",
    "varying character",
    "native character",
];
/// SQLite's declared types of integer affinity.
const SQLITE_INT: &[&str] = &[
    "integer",
    "int",
    "bigint",
    "smallint",
    "tinyint",
    "mediumint",
    "int2",
    "int8",
];
/// MySQL / MariaDB text types.
const MYSQL_TEXT: &[&str] = &[
    "varchar",
    "char",
    "text",
    "tinytext",
    "mediumtext",
    "longtext",
];

/// The column type of `ty` on `backend`: what the DDL writes and which catalog types hold it.
/// One arm per field type; `(sqlite, postgres, mysql)` in that order.
pub(crate) fn column_type(ty: FieldType, backend: Backend) -> ColumnType {
    // (Rust type, [(DDL, accepted catalog types); SQLite, PostgreSQL, MySQL])
    type Row = (&'static str, [(&'static str, &'static [&'static str]); 3]);
    let (rust, per_backend): Row = match ty {
        FieldType::I16 => (
            "i16",
            [
                ("SMALLINT", SQLITE_INT),
                ("SMALLINT", &["int2"]),
                ("SMALLINT", &["smallint"]),
            ],
        ),
        FieldType::I32 => (
            "i32",
            [
                ("INTEGER", SQLITE_INT),
                ("INTEGER", &["int4"]),
                ("INT", &["int"]),
            ],
        ),
        FieldType::I64 => (
            "i64",
            [
                ("BIGINT", SQLITE_INT),
                ("BIGINT", &["int8"]),
                ("BIGINT", &["bigint"]),
            ],
        ),
        FieldType::F32 => (
            "f32",
            [
                ("REAL", &["real", "float", "double", "double precision"]),
                ("REAL", &["float4"]),
                ("FLOAT", &["float"]),
            ],
        ),
        FieldType::F64 => (
            "f64",
            [
                ("REAL", &["real", "float", "double", "double precision"]),
                ("DOUBLE PRECISION", &["float8"]),
                ("DOUBLE", &["double"]),
            ],
        ),
        FieldType::Bool => (
            "bool",
            [
                ("BOOLEAN", &["boolean", "bool"]),
                ("BOOLEAN", &["bool"]),
                // BOOLEAN is TINYINT(1).
                ("BOOLEAN", &["tinyint"]),
            ],
        ),
        FieldType::Text => (
            "String",
            [
                ("TEXT", SQLITE_TEXT),
                ("TEXT", &["text", "varchar", "bpchar", "citext"]),
                ("TEXT", MYSQL_TEXT),
            ],
        ),
        FieldType::DateTime => (
            "chrono::DateTime<Utc>",
            [
                // Stored as RFC 3339 text on SQLite.
                ("DATETIME", &["datetime", "timestamp", "text"]),
                ("TIMESTAMPTZ", &["timestamptz", "timestamp"]),
                ("DATETIME(6)", &["datetime", "timestamp"]),
            ],
        ),
        FieldType::Date => (
            "chrono::NaiveDate",
            [
                ("DATE", &["date", "text"]),
                ("DATE", &["date"]),
                ("DATE", &["date"]),
            ],
        ),
        FieldType::Decimal => (
            "rust_decimal::Decimal",
            [
                // Exact as text on SQLite (its NUMERIC and REAL keep 15 digits).
                ("TEXT", SQLITE_TEXT),
                ("NUMERIC", &["numeric"]),
                // MySQL's DECIMAL without a precision is DECIMAL(10, 0); a table that needs
                // another scale is written by hand (or by a migration) and checked here.
                ("DECIMAL(38, 10)", &["decimal"]),
            ],
        ),
        FieldType::Enum(_) => (
            "an expose enum",
            [
                ("TEXT", SQLITE_TEXT),
                ("TEXT", &["text", "varchar", "bpchar", "citext"]),
                (
                    "VARCHAR(255)",
                    &[
                        "varchar",
                        "char",
                        "text",
                        "tinytext",
                        "mediumtext",
                        "longtext",
                        "enum",
                    ],
                ),
            ],
        ),
        FieldType::Uuid => (
            "uuid::Uuid",
            [
                // sqlx stores a UUID as 16 bytes on SQLite and MySQL.
                ("BLOB", &["blob"]),
                ("UUID", &["uuid"]),
                ("BINARY(16)", &["binary"]),
            ],
        ),
        FieldType::Json => (
            "serde_json::Value",
            [
                ("TEXT", &["text", "json", "jsonb"]),
                ("JSONB", &["jsonb", "json"]),
                // MariaDB's JSON is LONGTEXT with a check.
                ("JSON", &["json", "longtext"]),
            ],
        ),
        // No arrays on SQLite and MySQL/MariaDB: a JSON array there.
        FieldType::Array(item) => {
            let (rust, pg): (_, (&'static str, &'static [&'static str])) = match item {
                ArrayItem::Text => ("Vec<String>", ("TEXT[]", &["_text"])),
                ArrayItem::I32 => ("Vec<i32>", ("INTEGER[]", &["_int4"])),
                ArrayItem::I64 => ("Vec<i64>", ("BIGINT[]", &["_int8"])),
                ArrayItem::F64 => ("Vec<f64>", ("DOUBLE PRECISION[]", &["_float8"])),
                ArrayItem::Bool => ("Vec<bool>", ("BOOLEAN[]", &["_bool"])),
            };
            (
                rust,
                [
                    ("TEXT", &["text", "json"]),
                    pg,
                    ("JSON", &["json", "longtext"]),
                ],
            )
        }
    };
    let (ddl, accepts) = per_backend[match backend {
        Backend::Sqlite => 0,
        Backend::Postgres => 1,
        Backend::MySql => 2,
    }];
    ColumnType { rust, ddl, accepts }
}

impl ColumnType {
    /// Whether a column of catalog type `sql` (any case, with or without a length such as
    /// `VARCHAR(255)`) holds the field.
    pub(crate) fn holds(&self, sql: &str) -> bool {
        let base = sql
            .split('(')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        self.accepts.contains(&base.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_case_do_not_matter() {
        let text = column_type(FieldType::Text, Backend::MySql);
        assert!(text.holds("VARCHAR(255)"));
        assert!(text.holds("longtext"));
        assert!(!text.holds("int"));
        let f64 = column_type(FieldType::F64, Backend::Postgres);
        assert!(!f64.holds("numeric"));
        assert!(column_type(FieldType::DateTime, Backend::Sqlite).holds("TEXT"));
        let tags = FieldType::Array(ArrayItem::Text);
        assert!(column_type(tags, Backend::Postgres).holds("_text"));
        assert!(!column_type(tags, Backend::Postgres).holds("text"));
        assert!(!column_type(FieldType::Array(ArrayItem::I64), Backend::Postgres).holds("_int4"));
        assert!(column_type(tags, Backend::MySql).holds("longtext"));
    }
}
