//! Hooks: plain async functions named in the attribute that run before (`pre`) and after
//! (`post`) an operation, inside its database transaction.
//!
//! A hook has this shape:
//!
//! ```
//! use expose_runtime::{HookCtx, Problem};
//!
//! #[derive(Clone)]
//! struct CurrentUser { id: i64, admin: bool }
//!
//! async fn require_admin(ctx: &mut HookCtx) -> Result<(), Problem> {
//!     match ctx.extension::<CurrentUser>() {
//!         Some(u) if u.admin => Ok(()),
//!         Some(_) => Err(Problem::forbidden("only admins may do this")),
//!         None => Err(Problem::unauthorized("sign in first")),
//!     }
//! }
//! ```
//!
//! and is named in the attribute per operation or for all of them, several per operation,
//! run in the order written (those of `all(...)` first):
//! `create(pre = [require_admin], post = [send_welcome])`.
//!
//! What a hook can do through [`HookCtx`]:
//! - read the request: [`method`](HookCtx::method), [`uri`](HookCtx::uri),
//!   [`headers`](HookCtx::headers), [`extension`](HookCtx::extension) (what an auth
//!   middleware put there), and the app's state ([`state`](HookCtx::state));
//! - see the [`operation`](HookCtx::operation) and the [`key`](HookCtx::key) of the target row;
//! - in `pre` of create/update: read and change the validated [`input`](HookCtx::input_mut);
//! - in `post`: read and change the [`output`](HookCtx::output_mut) (one object, or the
//!   array of a list page) and see the row [`before`](HookCtx::before) an update or remove;
//! - refuse the request by returning any [`Problem`];
//! - run SQL in the operation's transaction with [`execute`](HookCtx::execute): when any
//!   hook fails, or the write fails, everything rolls back.

use crate::db::{Db, Tx};
use crate::field::Field;
use crate::problem::Problem;
use crate::value::Value;
use axum::http::{request::Parts, Extensions, HeaderMap, Method, Uri};
use std::any::Any;
use std::sync::Arc;

/// A boxed, sendable future: what the macro adapts every hook function to return.
pub use futures_core::future::BoxFuture;

pub use expose_core::OperationKind;

/// The field values a create or update writes: name → value.
#[derive(Debug, Clone)]
pub struct Input {
    /// The model's name and fields, for lookups by name and messages.
    pub(crate) model: (&'static str, &'static [Field]),
    pub(crate) values: Vec<(usize, Value)>,
}

impl Input {
    /// The value of a field the request writes, by its API name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(i, _)| self.model.1[*i].name == name)
            .map(|(_, v)| v)
    }

    /// Sets a field (any field of the model, writable by clients or not), converting the value
    /// to the field's type. An unknown field or a value of another type is a programming
    /// error, answered 500 and logged.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) -> Result<(), Problem> {
        let Some(i) = self.model.1.iter().position(|f| f.name == name) else {
            return Err(Problem::internal(&format!(
                "a hook set unknown field `{name}` of {}",
                self.model.0
            )));
        };
        let f = &self.model.1[i];
        let v = crate::value::coerce(value.into(), f.ty, f.nullable).ok_or_else(|| {
            Problem::internal(&format!(
                "a hook set `{name}` of {} to a value of another type",
                self.model.0
            ))
        })?;
        match self.values.iter_mut().find(|(j, _)| *j == i) {
            Some(slot) => slot.1 = v,
            None => self.values.push((i, v)),
        }
        Ok(())
    }

    /// Removes a field from what is written.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let pos = self
            .values
            .iter()
            .position(|(i, _)| self.model.1[*i].name == name)?;
        Some(self.values.remove(pos).1)
    }

    /// The API names of the fields written, in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.values.iter().map(|(i, _)| self.model.1[*i].name)
    }
}

/// What a hook sees of the request, and may change of the operation.
pub struct HookCtx {
    pub(crate) op: OperationKind,
    pub(crate) parts: Parts,
    pub(crate) key: Option<Value>,
    pub(crate) input: Option<Input>,
    pub(crate) output: Option<serde_json::Value>,
    pub(crate) before: Option<serde_json::Value>,
    pub(crate) state: Arc<dyn Any + Send + Sync>,
    pub(crate) db: Db,
    pub(crate) tx: Option<Tx>,
}

impl HookCtx {
    /// The operation running.
    pub fn operation(&self) -> OperationKind {
        self.op
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.parts.method
    }

    /// The request URI (path and query).
    pub fn uri(&self) -> &Uri {
        &self.parts.uri
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// The request extensions (where middleware puts the current user, for example).
    pub fn extensions(&self) -> &Extensions {
        &self.parts.extensions
    }

    /// One request extension by type.
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.parts.extensions.get::<T>()
    }

    /// The application's state, when `S` is the state type the router was given.
    pub fn state<S: Send + Sync + 'static>(&self) -> Option<&S> {
        self.state.downcast_ref::<S>()
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The primary key of the target row (retrieve, update, remove; create's post hooks).
    pub fn key(&self) -> Option<&Value> {
        self.key.as_ref()
    }

    /// The validated input of create / update.
    pub fn input(&self) -> Option<&Input> {
        self.input.as_ref()
    }

    /// The input, to change in a `pre` hook.
    pub fn input_mut(&mut self) -> Option<&mut Input> {
        self.input.as_mut()
    }

    /// The response body in `post` hooks: an object, or the array of a list page.
    pub fn output(&self) -> Option<&serde_json::Value> {
        self.output.as_ref()
    }

    /// The response body, to change in a `post` hook.
    pub fn output_mut(&mut self) -> Option<&mut serde_json::Value> {
        self.output.as_mut()
    }

    /// The whole row (every field) as it was before an update or remove, in `post` hooks.
    pub fn before(&self) -> Option<&serde_json::Value> {
        self.before.as_ref()
    }

    /// Runs a statement in the operation's transaction. Write placeholders as `?`; they
    /// become `$1, $2, ...` on PostgreSQL. Returns the number of rows affected.
    ///
    /// A failing statement fails the hook with the problem its error maps to (409 for a
    /// unique violation, 503 for contention, 500 otherwise, logged), and the operation's
    /// transaction rolls back.
    pub async fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, Problem> {
        let pg;
        let sql = if matches!(self.db, Db::Postgres(_)) {
            pg = numbered(sql);
            pg.as_str()
        } else {
            sql
        };
        let fail = |e: sqlx::Error| crate::db::error::map_for(None, e);
        use crate::db::Driver;
        match &mut self.tx {
            Some(Tx::Sqlite(tx)) => Ok(sqlx::Sqlite::execute(tx, sql, args)
                .await
                .map_err(fail)?
                .rows),
            Some(Tx::Postgres(tx)) => Ok(sqlx::Postgres::execute(tx, sql, args)
                .await
                .map_err(fail)?
                .rows),
            Some(Tx::MySql(tx)) => Ok(sqlx::MySql::execute(tx, sql, args)
                .await
                .map_err(fail)?
                .rows),
            None => Err(Problem::internal(&"a hook ran SQL outside a transaction")),
        }
    }
}

/// `?` placeholders to `$n`, outside quoted strings and identifiers.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (None, '?') => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("INSERT INTO t (a, \"b?\") VALUES (?, '?', ?)"),
            "INSERT INTO t (a, \"b?\") VALUES ($1, '?', $2)"
        );
    }
}
