//! # expose
//!
//! One attribute on a struct gives you the list / retrieve / create / update / remove
//! handlers of a REST API on [axum], backed by [sqlx] on SQLite, PostgreSQL or MySQL/MariaDB.
//!
//! ```
//! use expose_runtime::{expose, Db};
//!
//! #[expose(
//!     as = "people",
//!     list(fields = "-password"),
//!     retrieve(fields = "-password"),
//!     create(fields = "name,email,password,age,bio"),
//!     update(fields = "name,email,password,age,bio"),
//!     remove,
//! )]
//! pub struct Person {
//!     #[expose(id, generated)]
//!     pub id: i64,
//!     pub name: String,
//!     pub email: String,
//!     pub password: String,
//!     pub age: i32,
//!     #[expose(default)]
//!     pub is_admin: bool,
//!     pub bio: Option<String>,
//!     #[expose(generated)]
//!     pub created_at: chrono::DateTime<chrono::Utc>,
//! }
//!
//! # async fn run() -> Result<(), sqlx::Error> {
//! let db = Db::connect("sqlite::memory:").await?;
//! let app: axum::Router = axum::Router::new().merge(Person::router()).with_state(db);
//! # let _ = app; Ok(()) }
//! ```
//!
//! The attribute's reference is on [`expose`]; what a client may send is described in the
//! README. Requests the API refuses are answered with a [`Problem`].

// Lets `#[expose]`, whose expansion names `::expose_runtime`, be used in this crate's tests.
extern crate self as expose_runtime;

mod body;
mod conditional;
mod db;
mod db_error;
mod field_type;
mod handlers;
pub mod hooks;
mod model;
pub mod openapi;
mod output;
mod problem;
pub mod query;
mod resource;
mod router;
pub mod scope;
mod sql;
mod value;

pub use db::{Backend, Db, PoolConfig};
pub use field_type::{FieldKind, FieldType};
pub use hooks::{BoxFuture, Hook, HookCtx, Input, OperationKind};
pub use model::{Field, Force, ForceFn, Model, Operation};
pub use openapi::OpenApi;
pub use problem::{Offender, Problem, PROBLEM_JSON};
pub use router::{router, RouterConfig};
pub use scope::{Col, Cond, FieldMask, FieldsFn, ScopeFn};
pub use value::{Value, ValueError};

/// Turns a struct into a REST resource. See the crate documentation for an example.
///
/// # Attribute options
///
/// `#[expose(...)]` on the struct takes:
///
/// | option | meaning | default |
/// |---|---|---|
/// | `as = "people"` | URL segment: `/people` and `/people/{id}` | required |
/// | `table = "person"` | SQL table | the `as` value |
/// | `all(...)` | defaults for every operation (same keys as below) | none |
/// | `list(...)`, `retrieve(...)`, `create(...)`, `update(...)`, `remove` | the operations exposed; any other answers 405 | none |
///
/// Inside an operation:
///
/// | key | operations | meaning | default |
/// |---|---|---|---|
/// | `fields = "a,b"` / `"-a,-b"` | all | readable (list, retrieve) or writable (create, update) fields: only those, or all but those | every field (reads); every non-generated field (writes) |
/// | `filter = "a,b"` / `"-a"` | list | fields a client may filter on | the readable fields |
/// | `sort = "a,b"` / `"-a"` | list | fields a client may order by | the readable fields |
/// | `order = "age.desc,name"` | list | order when the client sends none | the key |
/// | `fixed_order = "..."` | list | an order clients cannot change | none |
/// | `where = "is_admin.eq.false"` | list, retrieve | a filter ANDed into every request (may repeat) | none |
/// | `limit = 100` | list | page size when the client asks for none | 100 |
/// | `max_limit = 1000` | list | larger requests are clamped to it | 1000 |
/// | `fixed_limit = 20` | list | a page size clients cannot change | none |
/// | `max_conditions = 50`, `max_depth = 8`, `max_in = 100` | list | query complexity bounds | 50, 8, 100 |
///
/// On fields, `#[expose(...)]` takes `id` (the primary key; exactly one), `generated` (the
/// database assigns it; never writable), `default` (the column has a database default, so
/// create may omit it) and `column = "name"` (the SQL column, default the field name).
/// `#[serde(rename = "...")]` and `#[serde(rename_all = "...")]` set the name a field has in
/// JSON and in query parameters; field lists in the attribute always use Rust names.
///
/// The emitted code adds an inherent `router()` (and `router_with(RouterConfig)`) that
/// returns an `axum::Router<S>` for any state `S` from which a [`Db`] can be taken
/// (`Db: FromRef<S>`).
pub use expose_macros::expose;

/// Implemented by `#[expose]` for each exposed struct: its static description.
pub trait Exposed {
    /// Fields, types and policies, as the attribute declared them.
    const MODEL: &'static Model;
}

#[doc(hidden)]
pub mod __private {
    pub use crate::field_type::{FieldKind, FieldType};
    pub use crate::model::{Field, Force, Model, Operation};
    pub use crate::router::{router, RouterConfig};
    pub use crate::scope::{Col, Cond, FieldMask};
    pub use crate::Exposed;
    pub use crate::{BoxFuture, Db, HookCtx, Problem, Value};
    pub use axum::extract::FromRef;
    pub use axum::Router;
    pub use core::option::Option::{self, None, Some};
    pub use core::result::Result::{self, Ok};
    pub use std::boxed::Box;
}
