//! SQL writing: a writer that takes identifiers only from the schema and every value as a
//! bound parameter, the statements of each operation, and the cache of their texts.

mod cache;
mod statements;
mod writer;

pub(crate) use cache::{written, KeyArgs, Returning, Shape, Sql, StatementCache};
pub(crate) use statements::*;
pub(crate) use writer::SqlWriter;
