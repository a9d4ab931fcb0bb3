//! Statement texts built once per shape: the SQL of a single-row read, an insert, an update
//! or a delete depends only on which columns it reads or writes (and the dialect), never on
//! the values, which are bound. The common shapes are cached in the resource; the rest are
//! built per request.

use super::SqlWriter;
use crate::db::Dialect;
use crate::value::Value;
use foldhash::fast::FixedState;
use std::borrow::Cow;
use std::hash::BuildHasher;
use std::sync::OnceLock;

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
    /// One row upserted ([`upsert`](super::upsert)): the fields inserted, the conflict
    /// field, the fields a merge sets (`None`: a duplicate is ignored; else those taken
    /// from the row, then those forced) and what it returns; binds the inserted values in
    /// field order, then the forced ones in field order.
    Upsert {
        /// The fields inserted.
        values: u64,
        /// The conflict field.
        conflict: usize,
        /// The fields a merge sets: taken from the row, and forced.
        set: Option<(u64, u64)>,
        /// What it returns.
        returning: Returning,
    },
    /// A one-row upsert's merge where the dialect merges first (`Upsert::MergeFirst`):
    /// `UPDATE t SET fields WHERE conflict = ? RETURNING ...`; binds the merged values in
    /// field order, then the conflict value.
    MergeFirst {
        /// The fields the merge sets.
        set: u64,
        /// The conflict field.
        conflict: usize,
        /// What it returns.
        returning: Returning,
    },
    /// A one-row upsert's read-back where the dialect returns nothing (MySQL): `SELECT key,
    /// cols FROM t WHERE field = ?` by its unique conflict field; binds the field's value.
    ReadBack {
        /// The unique field the row is read by.
        field: usize,
        /// The columns read after the key.
        returning: Returning,
    },
    /// Its insert, when the merge matched no row: `INSERT INTO t (fields) VALUES (...)
    /// RETURNING ...`; binds the values in field order.
    InsertReturning {
        /// The fields inserted.
        values: u64,
        /// What it returns.
        returning: Returning,
    },
}

/// What a cached write returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Returning {
    /// Nothing.
    Nothing,
    /// The key alone.
    Key,
    /// The resource's default answer columns.
    Output,
}

/// Most shapes kept per dialect: clients choose which optional fields a write sends, so the
/// number of shapes is theirs to grow; past the bound, statements are built per request.
const MAX_SHAPES: usize = 128;

/// A statement's text: borrowed from the resource's cache, or built for one request.
pub(crate) type Sql<'r> = Cow<'r, str>;

/// The arguments of a statement by key: the key alone, kept inline (a heap block would be
/// held by every request in flight while it waits for the database); a statement with
/// filters besides the key has more, on the heap.
pub(crate) type KeyArgs = smallvec::SmallVec<[Value; 1]>;

/// The cached texts, per dialect: an open-addressed table of slots that are filled once and
/// never emptied, so a lookup only reads (no lock, no reference count to bump: many worker
/// threads look up the same statements); a request borrows its text from the cache, which
/// its router owns. Slots are allocated for a dialect when it is first used.
#[derive(Debug, Default)]
pub(crate) struct StatementCache([OnceLock<Box<[Slot]>>; 3]);

type Slot = OnceLock<(Shape, Box<str>)>;

impl StatementCache {
    /// The text of `shape` on `dialect` with its arguments `args` (in the order the text
    /// binds them; a `Vec`, or the inline [`KeyArgs`] of a statement by key). The first
    /// time, `build` writes the statement from a copy of the arguments; its text is kept
    /// and its arguments must be `args`.
    pub(crate) fn statement<A>(
        &self,
        dialect: &'static Dialect,
        shape: Shape,
        args: A,
        build: impl FnOnce(A) -> SqlWriter,
    ) -> (Sql<'_>, A)
    where
        A: Clone + std::ops::Deref<Target = [Value]>,
    {
        let slots =
            self.0[dialect.id].get_or_init(|| (0..MAX_SHAPES).map(|_| Slot::new()).collect());
        let start = FixedState::default().hash_one(shape) as usize;
        let mut free = None;
        for i in 0..MAX_SHAPES {
            let slot = &slots[(start + i) % MAX_SHAPES];
            match slot.get() {
                Some((s, sql)) if *s == shape => return (Cow::Borrowed(&**sql), args),
                Some(_) => continue,
                None => {
                    free = Some(slot);
                    break;
                }
            }
        }
        let w = build(args.clone());
        debug_assert_eq!(
            w.args[..],
            args[..],
            "a cached {shape:?} binds its arguments in order"
        );
        let Some(slot) = free else {
            return (Cow::Owned(w.sql), args);
        };
        // Another request may fill the slot first, with this shape or another one; in the
        // second case this text serves this request only.
        let mut text = Some(w.sql);
        let (filled, sql) = slot.get_or_init(|| {
            let text = text.take().expect("taken once");
            (shape, text.into_boxed_str())
        });
        match text {
            Some(text) if *filled != shape => (Cow::Owned(text), args),
            _ => (Cow::Borrowed(&**sql), args),
        }
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
        assert!(matches!((&a, &b), (Cow::Borrowed(x), Cow::Borrowed(y)) if std::ptr::eq(*x, *y)));
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
