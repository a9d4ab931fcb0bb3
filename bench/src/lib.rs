//! A benchmark of the `people` example's generated API against hand-written axum + sqlx
//! handlers for the same model, on SQLite, PostgreSQL and MySQL/MariaDB. See `README.md`.
#![warn(missing_docs)]

/// The `people` example, included as it is so that the benchmark serves exactly the example.
#[path = "../../examples/people/app.rs"]
#[allow(dead_code, missing_docs)]
pub mod app;

pub mod handwritten;
/// The `list-hooked` workload's model (the fields of `people`, as in the example).
#[allow(missing_docs)]
pub mod hooked;
pub mod load;
pub mod queries;
pub mod relations;
pub mod report;
pub mod run;
pub mod server;
pub mod setup;
pub mod soak;
pub mod stats;
