//! Statement texts built once per shape: the SQL of a single-row read, an insert, an update
//! or a delete depends only on which columns it reads or writes (and the dialect), never on
//! the values, which are bound. The common shapes are cached in the resource; the rest are
//! built per request.

use super::{Dialect, SqlWriter};
use crate::value::Value;
use foldhash::fast::FixedState;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// What a cached statement's text depends on, besides the dialect. Every shape selects (or
/// returns) the resource's default answer columns and has no filter besides the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Shape {
    /// `SELECT cols FROM t WHERE key = ?`; binds the key.
    ByKey,
    /// `INSERT INTO t (fields) VALUES (...) [RETURNING cols]`; binds the values in field
    /// order.
    Insert(u64),
    /// `UPDATE t SET fields WHERE key = ? [RETURNING cols]`; binds the values in field
    /// order, then the key.
    Update(u64),
    /// `DELETE FROM t WHERE key = ?`; binds the key.
    Delete,
}

/// Most shapes kept per dialect: clients choose which optional fields a write sends, so the
/// number of shapes is theirs to grow; past the bound, statements are built per request.
const MAX_SHAPES: usize = 128;

/// The cached texts, per dialect (hashed with foldhash: the keys are the runtime's own
/// shapes, and SipHash's resistance to chosen keys buys nothing here).
#[derive(Debug, Default)]
pub(crate) struct StatementCache([RwLock<HashMap<Shape, Arc<str>, FixedState>>; 3]);

impl StatementCache {
    /// The text of `shape` on `dialect` with its arguments `args` (in the order the text
    /// binds them). The first time, `build` writes the statement from a copy of the
    /// arguments; its text is kept and its arguments must be `args`.
    pub(crate) fn statement(
        &self,
        dialect: &'static Dialect,
        shape: Shape,
        args: Vec<Value>,
        build: impl FnOnce(Vec<Value>) -> SqlWriter,
    ) -> (Arc<str>, Vec<Value>) {
        let map = &self.0[dialect.id];
        if let Some(sql) = map.read().ok().and_then(|m| m.get(&shape).cloned()) {
            return (sql, args);
        }
        let w = build(args.clone());
        debug_assert_eq!(
            w.args, args,
            "a cached {shape:?} binds its arguments in order"
        );
        let sql: Arc<str> = w.sql.into();
        if let Ok(mut m) = map.write() {
            if m.len() < MAX_SHAPES {
                m.insert(shape, sql.clone());
            }
        }
        (sql, args)
    }
}

/// The bit set of the fields written by `values` (sorted here by field, the order in which
/// a cached insert or update binds them).
pub(crate) fn written(values: &mut [(usize, Value)]) -> u64 {
    values.sort_unstable_by_key(|(i, _)| *i);
    values.iter().fold(0, |m, (i, _)| m | 1 << i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shape_is_built_once_and_its_arguments_come_from_the_request() {
        let cache = StatementCache::default();
        let mut builds = 0;
        let mut get = |v: i64| {
            cache.statement(
                &Dialect::POSTGRES,
                Shape::Delete,
                vec![Value::I64(v)],
                |a| {
                    builds += 1;
                    let mut w = SqlWriter::new(&Dialect::POSTGRES);
                    w.push("DELETE FROM t WHERE id = ")
                        .bind(a.into_iter().next().unwrap());
                    w
                },
            )
        };
        let (a, args_a) = get(1);
        let (b, args_b) = get(2);
        assert_eq!(&*a, "DELETE FROM t WHERE id = $1");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(args_a, vec![Value::I64(1)]);
        assert_eq!(args_b, vec![Value::I64(2)]);
        assert_eq!(builds, 1);
    }

    #[test]
    fn the_written_set_sorts_values_by_field() {
        let mut v = vec![
            (3, Value::I32(3)),
            (0, Value::I32(0)),
            (5, Value::Null(crate::field_type::FieldType::I32)),
        ];
        assert_eq!(written(&mut v), 0b101001);
        assert_eq!(v.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 3, 5]);
    }
}
