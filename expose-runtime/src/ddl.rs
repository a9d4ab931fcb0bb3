//! A model's `CREATE TABLE` on each backend, for prototypes, tests and as the first sqlx
//! migration: column types from [`column_types`](crate::column_types), nullability from
//! `Option`, the key, `unique`, and the defaults the attribute says.

use crate::column_types::column_type;
use crate::db::{Backend, Db};
use crate::field::Field;
use crate::field_type::FieldType;
use crate::model::Model;
use std::fmt;

/// Why a model's table could not be created.
#[derive(Debug)]
pub enum DdlError {
    /// The model says something the DDL cannot write: which model and field, and why.
    Inexpressible {
        /// The Rust name of the struct.
        model: &'static str,
        /// The Rust name of the field.
        field: &'static str,
        /// What is missing, and how to say it.
        reason: String,
    },
    /// The database refused the statement.
    Database(sqlx::Error),
}

impl fmt::Display for DdlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DdlError::Inexpressible {
                model,
                field,
                reason,
            } => write!(f, "no CREATE TABLE for {model}: field `{field}`: {reason}"),
            DdlError::Database(e) => write!(f, "CREATE TABLE failed: {e}"),
        }
    }
}

impl std::error::Error for DdlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DdlError::Database(e) => Some(e),
            DdlError::Inexpressible { .. } => None,
        }
    }
}

impl Model {
    /// The `CREATE TABLE IF NOT EXISTS` statement of the model's table on `backend`.
    ///
    /// Each field is a column of the type [`verify`](crate::verify()) accepts; a non-`Option`
    /// field is `NOT NULL`; the key is the `PRIMARY KEY` (a `generated` integer key
    /// auto-increments, a `generated` UUID key defaults to `gen_random_uuid()` on
    /// PostgreSQL); a `unique` field is `UNIQUE`; `#[expose(references = "users(id)")]` is a foreign key, and so is `#[expose(references = User)]` (to `User`'s table and key); a `generated` date-time defaults to the
    /// current time; `#[expose(default = "...")]` is written after `DEFAULT` as given; a
    /// `version` field defaults to 1. A `default` without SQL text, or another `generated`
    /// field, is an [`DdlError::Inexpressible`]: the DDL does not guess.
    pub fn create_table(&'static self, backend: Backend) -> Result<String, DdlError> {
        let q = match backend {
            Backend::MySql => '`',
            Backend::Sqlite | Backend::Postgres => '"',
        };
        let mut cols = Vec::with_capacity(self.fields.len());
        for f in self.fields {
            let def = column(self, f, backend).map_err(|reason| DdlError::Inexpressible {
                model: self.rust_name,
                field: f.ident,
                reason,
            })?;
            cols.push(format!("{q}{}{q} {def}", f.column));
        }
        let tail = match backend {
            Backend::MySql => " DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
            Backend::Sqlite | Backend::Postgres => "",
        };
        Ok(format!(
            "CREATE TABLE IF NOT EXISTS {q}{}{q} (\n    {}\n){tail}",
            self.table,
            cols.join(",\n    ")
        ))
    }
}

/// One column's definition after its name.
fn column(model: &Model, f: &Field, backend: Backend) -> Result<String, String> {
    let ct = column_type(f.ty, backend);
    let integer = matches!(f.ty, FieldType::I16 | FieldType::I32 | FieldType::I64);
    // MySQL indexes no TEXT without a prefix length: a key or unique text is VARCHAR(255).
    let ty = match (backend, f.ty) {
        (Backend::MySql, FieldType::Text) if f.key || f.unique => "VARCHAR(255)",
        _ => ct.ddl,
    };
    if f.key && f.generated && f.default_sql.is_empty() {
        return match (backend, f.ty) {
            (Backend::Sqlite, _) if integer => Ok("INTEGER PRIMARY KEY AUTOINCREMENT".into()),
            (Backend::Postgres, FieldType::I16) => Ok("SMALLSERIAL PRIMARY KEY".into()),
            (Backend::Postgres, FieldType::I32) => Ok("SERIAL PRIMARY KEY".into()),
            (Backend::Postgres, FieldType::I64) => Ok("BIGSERIAL PRIMARY KEY".into()),
            (Backend::MySql, _) if integer => Ok(format!("{ty} AUTO_INCREMENT PRIMARY KEY")),
            (Backend::Postgres, FieldType::Uuid) => {
                Ok("UUID PRIMARY KEY DEFAULT gen_random_uuid()".into())
            }
            _ => Err(format!(
                "the {backend:?} DDL cannot generate a {} key; make it in Rust with \
                 #[expose(id, generate = path::to_fn)] or give the SQL default: \
                 #[expose(id, generated, default = \"...\")]",
                ct.rust
            )),
        };
    }
    let mut def = ty.to_owned();
    if !f.nullable {
        def.push_str(" NOT NULL");
    }
    if f.key {
        def.push_str(" PRIMARY KEY");
    } else if f.unique {
        def.push_str(" UNIQUE");
    }
    let default = if !f.default_sql.is_empty() {
        Some(f.default_sql.to_owned())
    } else if f.version {
        Some("1".to_owned())
    } else if f.generated && f.ty == FieldType::DateTime {
        Some(
            match backend {
                Backend::Sqlite => "(strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))",
                Backend::Postgres => "now()",
                Backend::MySql => "CURRENT_TIMESTAMP(6)",
            }
            .to_owned(),
        )
    } else if f.generated || f.default {
        let what = if f.generated { "generated" } else { "default" };
        return Err(format!(
            "`{what}` says the column has a default, but not which: give its SQL, \
             #[expose({what}, default = \"...\")] (in {}'s CREATE TABLE)",
            model.table
        ));
    } else {
        None
    };
    if let Some(d) = default {
        def.push_str(" DEFAULT ");
        def.push_str(&d);
    }
    if !f.references.is_empty() {
        def.push_str(" REFERENCES ");
        def.push_str(f.references);
    } else if let Some(r) = model.relations.iter().find(|r| r.field == f.ident) {
        let target = (r.target)();
        let key = target.fields.iter().find(|k| k.key).ok_or_else(|| {
            format!(
                "{} references {}, which has no key",
                f.ident, target.rust_name
            )
        })?;
        def.push_str(&format!(" REFERENCES {} ({})", target.table, key.column));
    }
    Ok(def)
}

/// Creates the table of each model that does not have one yet (`CREATE TABLE IF NOT
/// EXISTS`, from [`Model::create_table`]), in order.
///
/// For prototypes and tests; in production, start a migration from the same statement
/// (`sqlx migrate add`, see the README).
pub async fn create_tables(db: &Db, models: &[&'static Model]) -> Result<(), DdlError> {
    for m in models {
        let sql = m.create_table(db.backend())?;
        db.execute(&sql).await.map_err(DdlError::Database)?;
    }
    Ok(())
}
