//! SQL building: a writer that takes identifiers only from the compiled model and every value
//! as a bound parameter, the per-backend dialects, and the statements of each operation.

mod backend;
mod cache;
mod commit;
mod dialect;
mod statements;
mod write_queue;
mod writer;

pub(crate) use backend::Backend;
pub(crate) use cache::{written, KeyArgs, Shape, Sql, StatementCache};
pub(crate) use commit::{Sent, WriteTx};
pub(crate) use dialect::Dialect;
pub(crate) use statements::*;
pub(crate) use write_queue::{turn as write_turn, Turn as WriteTurn};
pub(crate) use writer::SqlWriter;
