//! The start-up check: each model compared with its table in the database's catalog, so
//! that a server whose structs and tables disagree refuses to start instead of answering 500.

use crate::column_types::column_type;
use crate::db::{Backend, Db};
use crate::field::Field;
use crate::model::Model;
use expose_core::OperationKind;
use std::fmt;

/// One column as the catalog describes it.
#[derive(Debug)]
struct Column {
    name: String,
    /// The type as the catalog names it (PostgreSQL `udt_name`, MySQL `COLUMN_TYPE`,
    /// SQLite's declared type).
    sql_type: String,
    nullable: bool,
    /// A default, an identity / auto-increment, a generated column, or SQLite's rowid.
    has_default: bool,
}

/// What the catalog says about one table.
#[derive(Debug, Default)]
struct Table {
    columns: Vec<Column>,
    /// Columns with a unique index (or primary key) of their own, without a predicate.
    unique: Vec<String>,
    /// Foreign keys of one column: (column, referenced table, referenced column).
    references: Vec<(String, String, String)>,
}

/// How a model and its table disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MismatchKind {
    /// The table does not exist.
    MissingTable,
    /// A field has no column.
    MissingColumn,
    /// The column's type does not hold the field's Rust type.
    Type,
    /// A non-`Option` field on a column that allows NULL: a NULL would fail every read.
    Nullable,
    /// An `Option` field clients may write, on a NOT NULL column: a `null` would be refused.
    NotNull,
    /// A `generated`, `default` or `version` field whose column has no default.
    NoDefault,
    /// The key is neither generated (by the database or in Rust) nor sent by clients.
    KeyNotSupplied,
    /// A field that `references = "table(column)"` without that foreign key on its column.
    NoForeignKey,
    /// A `unique` field (an upsert's `on_conflict` target) without a unique index.
    NotUnique,
}

/// One disagreement between a model and its table.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// The Rust name of the struct.
    pub model: &'static str,
    /// The table.
    pub table: &'static str,
    /// The Rust name of the field; empty for a missing table.
    pub field: &'static str,
    /// The column; empty for a missing table.
    pub column: &'static str,
    /// The field's Rust type (`Option<i32>`); empty for a missing table.
    pub rust_type: String,
    /// The column's SQL type (`bigint NOT NULL`); empty when the column is missing.
    pub sql_type: String,
    /// What disagrees.
    pub kind: MismatchKind,
    /// The disagreement and its fix, in words.
    pub detail: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == MismatchKind::MissingTable {
            return write!(f, "{}: table `{}`: {}", self.model, self.table, self.detail);
        }
        write!(
            f,
            "{}.{} (column {}.{}; Rust {}, SQL {}): {}",
            self.model,
            self.field,
            self.table,
            self.column,
            self.rust_type,
            if self.sql_type.is_empty() {
                "none"
            } else {
                &self.sql_type
            },
            self.detail
        )
    }
}

/// Why [`verify`] refused: every mismatch found, or the catalog could not be read.
#[derive(Debug)]
pub enum VerifyError {
    /// The models and the tables disagree, in each of these ways.
    Mismatches(Vec<Mismatch>),
    /// Reading the catalog failed.
    Catalog(sqlx::Error),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Mismatches(all) => {
                write!(
                    f,
                    "the database does not match the models ({} mismatch{}):",
                    all.len(),
                    if all.len() == 1 { "" } else { "es" }
                )?;
                for m in all {
                    write!(f, "\n  - {m}")?;
                }
                Ok(())
            }
            VerifyError::Catalog(e) => write!(f, "could not read the database catalog: {e}"),
        }
    }
}

impl std::error::Error for VerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VerifyError::Catalog(e) => Some(e),
            VerifyError::Mismatches(_) => None,
        }
    }
}

/// Compares each model with its table and returns every mismatch in one error; call it once
/// at start, before serving, so that a server whose structs and tables disagree does not
/// start:
///
/// ```no_run
/// # use expose_runtime::{expose, Db};
/// # #[expose(as = "people", list)] struct Person { id: i64, name: String }
/// # async fn start(db: Db) -> Result<(), Box<dyn std::error::Error>> {
/// expose_runtime::verify(&db, &[Person::MODEL]).await?;
/// # Ok(()) }
/// ```
///
/// Checked for each field: the column exists; its type holds the Rust type (the table in
/// `column_types.rs`: `f64` is not `NUMERIC`, `i32` is not `BIGINT`, a date-time may be
/// text on SQLite); a non-`Option` field's column is `NOT NULL` (SQLite's `INTEGER PRIMARY
/// KEY` is); an `Option` field that create, update or replace lets clients write is on a
/// nullable column (a `null` sent would be refused, default or not); a `generated`,
/// `default` or `version` field's column has a default (an identity, auto-increment,
/// generated column or SQLite's rowid count), and for a key that create does not take from
/// the client the mismatch says that a create would store no key; a `unique` field has a unique index of its own;
/// a field with `references = "table(column)"` has that foreign key on its column.
pub async fn verify(db: &Db, models: &[&'static Model]) -> Result<(), VerifyError> {
    let mut out = Vec::new();
    for model in models {
        let table = read_table(db, model.table)
            .await
            .map_err(VerifyError::Catalog)?;
        compare(model, &table, db.backend(), &mut out);
    }
    match out.is_empty() {
        true => Ok(()),
        false => Err(VerifyError::Mismatches(out)),
    }
}

/// `users(id)` / `users (id)` as (table, column); `None` for none, or another form (a
/// schema-qualified or composite reference, which the DDL writes as given and `verify` leaves
/// alone).
fn referenced(references: &str) -> Option<(&str, &str)> {
    let (table, rest) = references.split_once('(')?;
    let column = rest.trim().strip_suffix(')')?.trim();
    let table = table.trim();
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    (plain(table) && plain(column)).then_some((table, column))
}

fn compare(model: &'static Model, table: &Table, backend: Backend, out: &mut Vec<Mismatch>) {
    if table.columns.is_empty() {
        out.push(Mismatch {
            model: model.rust_name,
            table: model.table,
            field: "",
            column: "",
            rust_type: String::new(),
            sql_type: String::new(),
            kind: MismatchKind::MissingTable,
            detail: "the table does not exist; create it (`Model::create_table` gives its DDL)"
                .into(),
        });
        return;
    }
    let writes = |f: &Field| {
        [
            OperationKind::Create,
            OperationKind::Update,
            OperationKind::Replace,
        ]
        .iter()
        .filter_map(|k| model.operation(*k))
        .any(|op| op.fields.contains(&f.ident))
    };
    for f in model.fields {
        let ct = column_type(f.ty, backend);
        let rust_type = match f.nullable {
            true => format!("Option<{}>", ct.rust),
            false => ct.rust.to_owned(),
        };
        let col = table
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(f.column));
        let mut push = |kind: MismatchKind, sql_type: String, detail: String| {
            out.push(Mismatch {
                model: model.rust_name,
                table: model.table,
                field: f.ident,
                column: f.column,
                rust_type: rust_type.clone(),
                sql_type,
                kind,
                detail,
            })
        };
        let Some(col) = col else {
            push(
                MismatchKind::MissingColumn,
                String::new(),
                format!(
                    "the table has no column `{}`; add it, or name the right one with \
                     #[expose(column = \"...\")]",
                    f.column
                ),
            );
            continue;
        };
        let sql = format!(
            "{}{}{}",
            col.sql_type,
            if col.nullable { " NULL" } else { " NOT NULL" },
            if col.has_default {
                " with a default"
            } else {
                ""
            }
        );
        if !ct.holds(&col.sql_type) {
            push(
                MismatchKind::Type,
                sql.clone(),
                format!(
                    "the column type does not hold {}; change the column to {} or the field's type",
                    ct.rust, ct.ddl
                ),
            );
        }
        if col.nullable && !f.nullable {
            push(
                MismatchKind::Nullable,
                sql.clone(),
                format!(
                    "the column allows NULL, which a {} cannot hold; make the field Option<{}> or the column NOT NULL",
                    ct.rust, ct.rust
                ),
            );
        }
        if !col.nullable && f.nullable && writes(f) {
            push(
                MismatchKind::NotNull,
                sql.clone(),
                "clients may write null, which the NOT NULL column refuses; make the field \
                 non-Option or the column nullable"
                    .into(),
            );
        }
        let needs_default = f.generated || f.default || f.version;
        // A key column may be nullable only on SQLite, which then stores a NULL key.
        if needs_default && !col.has_default && (f.key || !col.nullable) {
            let what = match (f.generated, f.version) {
                (true, _) => "generated",
                (_, true) => "version",
                _ => "default",
            };
            let create = model.operation(OperationKind::Create);
            let supplied = create.is_none_or(|op| {
                op.fields.contains(&f.ident) || op.force.iter().any(|x| x.field == f.ident)
            });
            if f.key && !supplied {
                push(
                    MismatchKind::KeyNotSupplied,
                    sql.clone(),
                    format!(
                        "the key is `{what}`, but the column has no default and create does not \
                         take the key from the client, so a create would store no key; give the \
                         column a default (or an identity / auto-increment), or make the key in \
                         Rust: #[expose(id, generate = uuid::Uuid::new_v4)]"
                    ),
                );
            } else {
                push(
                    MismatchKind::NoDefault,
                    sql.clone(),
                    format!(
                        "the field is `{what}`, so inserts may omit it, but the column has no \
                         default; give the column a default (or an identity / auto-increment)"
                    ),
                );
            }
        }
        if let Some((to_table, to_column)) = referenced(f.references) {
            let found = table.references.iter().any(|(c, t, tc)| {
                c.eq_ignore_ascii_case(f.column)
                    && t.eq_ignore_ascii_case(to_table)
                    && (tc.is_empty() || tc.eq_ignore_ascii_case(to_column))
            });
            if !found {
                push(
                    MismatchKind::NoForeignKey,
                    sql.clone(),
                    format!(
                        "the field references {to_table}({to_column}), but the column has no such \
                         foreign key; add FOREIGN KEY ({}) REFERENCES {to_table}({to_column})",
                        f.column
                    ),
                );
            }
        }
        if f.unique
            && !table
                .unique
                .iter()
                .any(|u| u.eq_ignore_ascii_case(f.column))
        {
            push(
                MismatchKind::NotUnique,
                sql,
                format!(
                    "the field is `unique` (an upsert's on_conflict target), but no unique index \
                     covers `{}` alone; CREATE UNIQUE INDEX on it",
                    f.column
                ),
            );
        }
    }
}

async fn read_table(db: &Db, table: &str) -> Result<Table, sqlx::Error> {
    let mut t = Table::default();
    match db {
        Db::Sqlite(pool) => {
            let rows: Vec<(String, String, i64, Option<String>, i64, i64)> = sqlx::query_as(
                "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?)",
            )
            .bind(table)
            .fetch_all(pool)
            .await?;
            let pk_columns = rows.iter().filter(|r| r.4 > 0).count();
            for (name, ty, notnull, default, pk, hidden) in rows {
                // `INTEGER PRIMARY KEY` is the rowid: never NULL, assigned when omitted.
                let rowid = pk > 0 && pk_columns == 1 && ty.eq_ignore_ascii_case("INTEGER");
                if pk > 0 && pk_columns == 1 {
                    t.unique.push(name.clone());
                }
                t.columns.push(Column {
                    name,
                    sql_type: ty,
                    nullable: notnull == 0 && !rowid,
                    has_default: default.is_some() || rowid || hidden == 2 || hidden == 3,
                });
            }
            let indexes: Vec<(String, i64, i64)> =
                sqlx::query_as("SELECT name, \"unique\", partial FROM pragma_index_list(?)")
                    .bind(table)
                    .fetch_all(pool)
                    .await?;
            for (index, unique, partial) in indexes {
                if unique == 0 || partial != 0 {
                    continue;
                }
                let cols: Vec<(Option<String>,)> =
                    sqlx::query_as("SELECT name FROM pragma_index_info(?)")
                        .bind(&index)
                        .fetch_all(pool)
                        .await?;
                if let [(Some(c),)] = cols.as_slice() {
                    t.unique.push(c.clone());
                }
            }
            // `to` is NULL when the key names the referenced table's primary key implicitly.
            let keys: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
                "SELECT id, \"from\", \"table\", \"to\" FROM pragma_foreign_key_list(?)",
            )
            .bind(table)
            .fetch_all(pool)
            .await?;
            for (id, from, to_table, to) in &keys {
                if keys.iter().filter(|k| k.0 == *id).count() == 1 {
                    // Empty: any column of that table (its primary key, not named here).
                    let to = to.clone().unwrap_or_default();
                    t.references.push((from.clone(), to_table.clone(), to));
                }
            }
        }
        Db::Postgres(pool) => {
            let rows: Vec<(String, String, bool, bool)> = sqlx::query_as(
                "SELECT column_name::text, udt_name::text, is_nullable = 'YES', \
                 column_default IS NOT NULL OR is_identity = 'YES' OR is_generated = 'ALWAYS' \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(pool)
            .await?;
            t.columns = rows
                .into_iter()
                .map(|(name, sql_type, nullable, has_default)| Column {
                    name,
                    sql_type,
                    nullable,
                    has_default,
                })
                .collect();
            let unique: Vec<(String,)> = sqlx::query_as(
                "SELECT a.attname::text FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0] \
                 WHERE i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL \
                 AND n.nspname = current_schema() AND c.relname = $1",
            )
            .bind(table)
            .fetch_all(pool)
            .await?;
            t.unique = unique.into_iter().map(|(c,)| c).collect();
            t.references = sqlx::query_as(
                "SELECT a.attname::text, rc.relname::text, ra.attname::text FROM pg_constraint k \
                 JOIN pg_class c ON c.oid = k.conrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_class rc ON rc.oid = k.confrelid \
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] \
                 JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1] \
                 WHERE k.contype = 'f' AND cardinality(k.conkey) = 1 \
                 AND n.nspname = current_schema() AND c.relname = $1",
            )
            .bind(table)
            .fetch_all(pool)
            .await?;
        }
        Db::MySql(pool) => {
            let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
                "SELECT CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR), \
                 CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE = 'YES' AS SIGNED), \
                 CAST(COLUMN_DEFAULT IS NOT NULL OR EXTRA LIKE '%auto_increment%' \
                 OR EXTRA LIKE '%GENERATED%' AS SIGNED) \
                 FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            )
            .bind(table)
            .fetch_all(pool)
            .await?;
            t.columns = rows
                .into_iter()
                .map(
                    |(name, data_type, column_type, nullable, has_default)| Column {
                        name,
                        // `DATA_TYPE` is the base name `holds` compares; `COLUMN_TYPE` shows
                        // the length too, for messages, when it starts with it.
                        sql_type: if column_type.starts_with(&data_type) {
                            column_type
                        } else {
                            data_type
                        },
                        nullable: nullable != 0,
                        has_default: has_default != 0,
                    },
                )
                .collect();
            let unique: Vec<(String,)> = sqlx::query_as(
                "SELECT CAST(s.COLUMN_NAME AS CHAR) FROM information_schema.STATISTICS s \
                 WHERE s.TABLE_SCHEMA = DATABASE() AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0 \
                 AND (SELECT COUNT(*) FROM information_schema.STATISTICS o \
                      WHERE o.TABLE_SCHEMA = s.TABLE_SCHEMA AND o.TABLE_NAME = s.TABLE_NAME \
                      AND o.INDEX_NAME = s.INDEX_NAME) = 1",
            )
            .bind(table)
            .fetch_all(pool)
            .await?;
            t.unique = unique.into_iter().map(|(c,)| c).collect();
            t.references = sqlx::query_as(
                "SELECT CAST(COLUMN_NAME AS CHAR), CAST(REFERENCED_TABLE_NAME AS CHAR), \
                 CAST(REFERENCED_COLUMN_NAME AS CHAR) FROM information_schema.KEY_COLUMN_USAGE k \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? \
                 AND REFERENCED_TABLE_NAME IS NOT NULL \
                 AND (SELECT COUNT(*) FROM information_schema.KEY_COLUMN_USAGE o \
                      WHERE o.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA \
                      AND o.TABLE_NAME = k.TABLE_NAME \
                      AND o.CONSTRAINT_NAME = k.CONSTRAINT_NAME) = 1",
            )
            .bind(table)
            .fetch_all(pool)
            .await?;
        }
    }
    Ok(t)
}
