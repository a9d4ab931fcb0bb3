//! What the `#[expose]` macro and its runtime share, with no I/O dependencies (no axum, sqlx
//! or tokio), as `sqlx-core` is shared by sqlx's macros and runtime: the operations a model
//! exposes and the PostgREST query grammar with its operator table. The macro checks the
//! attribute with this code at compile time; the runtime parses requests with it and the
//! OpenAPI writer describes parameters from it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod grammar;
mod operation;

pub use operation::{defaults, OperationKind};
