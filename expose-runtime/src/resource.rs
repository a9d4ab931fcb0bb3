//! A model compiled when its router is built: its schema, policies parsed and field lists
//! resolved to indices, so that a request does no name lookups it can avoid.

use crate::db::error::Subject;
use crate::field::FieldSet;
use crate::filter::Column;
use crate::model::{Model, Operation};
use crate::problem::Problem;
use crate::query;
use crate::schema::{same_model, Policy, Related, Schema};
use expose_core::OperationKind;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A model ready to serve: its schema, each operation's compiled policy and the caches
/// of its statements and row sizes; built once per router, shared by its operations.
#[derive(Debug)]
pub(crate) struct Resource {
    pub(crate) schema: Schema,
    /// Each exposed operation's policy, indexed by [`OperationKind::index`].
    policies: [Option<Policy>; OperationKind::COUNT],
    /// Each declared action's policy (an update's), in the model's order.
    actions: Vec<Policy>,
    /// What create and update answer with: retrieve's fields, else list's, else the key.
    pub(crate) output: FieldSet,
    /// What an `ETag` is computed from: the output fields and the version.
    pub(crate) etag_columns: Vec<Column>,
    /// The statements of single-row reads and writes of the default columns, built once
    /// per shape.
    pub(crate) statements: crate::sql::StatementCache,
    /// The default answer columns: the output fields.
    pub(crate) output_columns: Vec<Column>,
    /// The longest single-row body rendered so far (bounded), so that a row's buffer is
    /// allocated once at the right size rather than grown.
    row_len: AtomicUsize,
    /// The idempotency keys of this router's requests in progress.
    pub(crate) in_flight: InFlight,
    /// Whether the MySQL-family server behind this router takes `INSERT ... RETURNING`
    /// (MariaDB 10.5+, not MySQL): asked once, at the first bulk insert that answers with
    /// its rows.
    pub(crate) insert_returning: OnceLock<bool>,
    /// Whether its writes chosen by filters met deadlocks lately.
    pub(crate) deadlocks: Deadlocks,
}

/// Whether a model's writes chosen by filters were a deadlock's victims lately: for
/// [`Deadlocks::WINDOW`] after the last one, they lock their rows in key order from the
/// start (`sql::Bounded::ordered`, chosen by `handlers::batch`), so that overlapping writes
/// queue rather than deadlock again.
#[derive(Debug, Default)]
pub(crate) struct Deadlocks {
    /// When the window ends, in milliseconds since the Unix epoch; 0 before any deadlock.
    until: AtomicU64,
}

impl Deadlocks {
    /// How long filtered writes lock in key order after a deadlock.
    const WINDOW: Duration = Duration::from_secs(10);

    fn now() -> u64 {
        let since = SystemTime::now().duration_since(UNIX_EPOCH);
        since.map_or(0, |d| d.as_millis() as u64)
    }

    /// A deadlock just undid one of the model's filtered writes.
    pub(crate) fn met(&self) {
        let until = Self::now() + Self::WINDOW.as_millis() as u64;
        self.until.store(until, Ordering::Relaxed);
    }

    /// Whether the last deadlock is within the window (no clock read before the first).
    pub(crate) fn recent(&self) -> bool {
        let until = self.until.load(Ordering::Relaxed);
        until != 0 && Self::now() < until
    }
}

/// A resource is read as its schema by the layers below it (planning, SQL, output).
impl std::ops::Deref for Resource {
    type Target = Schema;
    fn deref(&self) -> &Schema {
        &self.schema
    }
}

impl From<&Resource> for Subject {
    fn from(res: &Resource) -> Subject {
        Subject::from(&res.schema)
    }
}

impl Resource {
    /// The policy of `kind`, when the model exposes it.
    pub(crate) fn policy(&self, kind: OperationKind) -> Option<&Policy> {
        self.policies[kind.index()].as_ref()
    }

    /// The read policy a write's answer embeds under (its whitelist, `embed_depth` and
    /// `embed_rows`): what a direct read of the written row may embed, the retrieve's when
    /// it embeds something, else the list's, else the retrieve's; `None` when the model is
    /// not read.
    pub(crate) fn answer_policy(&self) -> Option<&Policy> {
        let retrieve = self.policy(OperationKind::Retrieve);
        retrieve
            .filter(|p| !p.op.embed.is_empty())
            .or(self.policy(OperationKind::List))
            .or(retrieve)
    }

    /// The policy of the model's action number `index`.
    pub(crate) fn action(&self, index: usize) -> Option<&Policy> {
        self.actions.get(index)
    }

    /// Builds the resource; every router of a model builds its own (and its statement
    /// cache), which it owns.
    ///
    /// # Panics
    /// When the model names a field it does not have, or a policy does not parse: the macro
    /// checks both at compile time, so this only fires on a hand-written `Model`.
    pub(crate) fn compile(model: &'static Model) -> Resource {
        let mut schema = Schema::new(model);
        schema.related = related(model);
        for kind in [OperationKind::List, OperationKind::Retrieve] {
            if let Some(op) = model.operation(kind) {
                check_embeds(&schema, op);
            }
        }
        for r in &schema.related {
            check_embeds(&r.schema, r.policy.op);
        }
        let mut policies: [Option<Policy>; OperationKind::COUNT] = Default::default();
        for op in model.operations {
            policies[op.kind.index()] = Some(match op.kind.reads() {
                true => read_policy(&schema, op),
                false => write_policy(&schema, op),
            });
        }
        let read = [OperationKind::Retrieve, OperationKind::List]
            .into_iter()
            .find_map(|k| policies[k.index()].as_ref());
        let output = match read {
            Some(p) => p.fields,
            None => {
                let mut s = FieldSet::default();
                s.insert(schema.key);
                s
            }
        };
        let columns = |set: FieldSet| -> Vec<Column> {
            set.iter()
                .map(|field| Column { field, alias: None })
                .collect()
        };
        let mut etag = output;
        if let Some(v) = schema.version {
            etag.insert(v);
        }
        let actions = model
            .actions
            .iter()
            .map(|a| write_policy(&schema, &a.op))
            .collect();
        Resource {
            schema,
            policies,
            actions,
            output,
            etag_columns: columns(etag),
            statements: Default::default(),
            output_columns: columns(output),
            row_len: AtomicUsize::new(128),
            in_flight: InFlight::default(),
            insert_returning: OnceLock::new(),
            deadlocks: Default::default(),
        }
    }

    /// A buffer for one row's body, sized like the longest row rendered so far.
    pub(crate) fn row_buffer(&self) -> Vec<u8> {
        Vec::with_capacity(self.row_len.load(Ordering::Relaxed))
    }

    /// Records the length of a rendered row (up to 4 KiB: one huge row does not make every
    /// buffer huge). Written only when it grows, so the common read stays a shared load.
    pub(crate) fn saw_row(&self, len: usize) {
        let len = len.min(4096);
        if len > self.row_len.load(Ordering::Relaxed) {
            self.row_len.fetch_max(len, Ordering::Relaxed);
        }
    }

    /// Whether `columns` are [`Self::etag_columns`], the columns of the cached single-row
    /// statements: by address first (the default columns are borrowed from here), then by
    /// value. The output columns are the tag's columns exactly when both lists have the
    /// same length (the tag's are the output's plus the version field, when it is not
    /// already in the output).
    pub(crate) fn is_etag_columns(&self, columns: &[Column]) -> bool {
        let etag = self.etag_columns.as_slice();
        std::ptr::eq(columns, etag)
            || (std::ptr::eq(columns, self.output_columns.as_slice())
                && columns.len() == etag.len())
            || columns == etag
    }
}

/// # Panics
/// When `op` lets a client embed a model that no reference relates to `schema`'s: the
/// router would refuse every such embed.
fn check_embeds(schema: &Schema, op: &Operation) {
    if let Some(m) = query::unrelated(schema, op) {
        let (a, b) = (schema.model.rust_name, m.rust_name);
        panic!(
            "{a} embeds {b} (`embed({b})` on its {}), but no field of either references the \
             other: add #[expose(references = {a})] to a field of {b}, or \
             #[expose(references = {b})] to a field of {a}",
            op.kind.name()
        );
    }
    if let Some((m, j)) = query::unjoined(schema, op) {
        let (a, b, j) = (schema.model.rust_name, m.rust_name, j.rust_name);
        panic!(
            "{a} embeds {b} through {j} (`embed({b}(through = {j}))` on its {}), but {j} does \
             not reference both: add #[expose(references = {a})] and \
             #[expose(references = {b})] to two fields of {j}",
            op.kind.name()
        );
    }
}

/// Every model a request to `model` may embed, at any depth: those of its list's and
/// retrieve's `embed` (and the join models of many-to-many ones), then those of theirs
/// (their list's, else their retrieve's), each once.
///
/// # Panics
/// When an embedded model exposes neither list nor retrieve, whose policy an embed follows.
fn related(model: &'static Model) -> Vec<Related> {
    let mut found: Vec<&'static Model> = Vec::new();
    let mut queue: Vec<&'static Model> = [OperationKind::List, OperationKind::Retrieve]
        .into_iter()
        .filter_map(|k| model.operation(k))
        .flat_map(embedded)
        .collect();
    while let Some(m) = queue.pop() {
        if found.iter().any(|f| same_model(f, m)) {
            continue;
        }
        found.push(m);
        let policy = m
            .operation(OperationKind::List)
            .or_else(|| m.operation(OperationKind::Retrieve));
        if let Some(op) = policy {
            queue.extend(embedded(op));
        }
    }
    found
        .into_iter()
        .map(|m| {
            let schema = Schema::new(m);
            let op = m
                .operation(OperationKind::List)
                .or_else(|| m.operation(OperationKind::Retrieve))
                .unwrap_or_else(|| {
                    panic!(
                        "{} is embedded (`embed({})`) but exposes neither `list` nor `retrieve`, whose policy an embed follows; expose one of them",
                        m.rust_name, m.rust_name
                    )
                });
            let policy = read_policy(&schema, op);
            Related { schema, policy }
        })
        .collect()
}

/// The models `op` lets a client embed, with the join models of many-to-many ones.
fn embedded(op: &'static Operation) -> impl Iterator<Item = &'static Model> {
    let through = op.embed_through.iter();
    op.embed
        .iter()
        .map(|f| f())
        .chain(through.flat_map(|t| [(t.target)(), (t.join)()]))
}

fn read_policy(schema: &Schema, op: &'static Operation) -> Policy {
    let name = schema.model.rust_name;
    let mut readable = schema.set(op.fields, "read fields");
    readable.insert(schema.key);
    let within = |s: FieldSet| FieldSet(s.0 & readable.0);
    let filterable = op
        .filterable
        .map_or(readable, |f| within(schema.set(f, "filterable fields")));
    // By default the readable fields whose values have an order (not JSON, not arrays).
    let ordered = readable.iter().filter(|&i| schema.ty(i).is_ordered()).fold(
        FieldSet::default(),
        |mut s, i| {
            s.insert(i);
            s
        },
    );
    let sortable = op
        .sortable
        .map_or(ordered, |f| within(schema.set(f, "sortable fields")));
    let default_order = if op.default_order.is_empty() {
        Vec::new()
    } else {
        query::compile_order(schema, op.default_order)
            .unwrap_or_else(|e| panic!("default order of {name}: {e}"))
    };
    let forced = forced_filters(schema, op);
    Policy {
        fields: readable,
        filterable,
        sortable,
        default_order,
        forced,
        op,
    }
}

fn write_policy(schema: &Schema, op: &'static Operation) -> Policy {
    // A write chosen by filters may filter on the fields its policy names, the key by
    // default; the macro checks that they are readable.
    let filterable = match op.filterable {
        Some(f) => schema.set(f, "filterable fields"),
        None => {
            let mut key = FieldSet::default();
            key.insert(schema.key);
            key
        }
    };
    Policy {
        fields: schema.set(op.fields, "write fields"),
        filterable,
        sortable: FieldSet::default(),
        default_order: Vec::new(),
        forced: forced_filters(schema, op),
        op,
    }
}

/// The operation's `where`, compiled (the macro has checked it with the same grammar).
fn forced_filters(schema: &Schema, op: &Operation) -> Vec<crate::filter::Filter> {
    let name = schema.model.rust_name;
    op.forced_filters
        .iter()
        .map(|f| {
            query::compile_forced(schema, f)
                .unwrap_or_else(|e| panic!("forced filter of {name}: {e}"))
        })
        .collect()
}

/// The `Idempotency-Key`s of requests in progress in this process (`handlers::idempotency`).
#[derive(Debug, Default)]
pub(crate) struct InFlight(Mutex<HashSet<(String, String)>>);

/// A key held while its request runs.
pub(crate) struct Held<'a> {
    set: &'a InFlight,
    id: (String, String),
}

impl InFlight {
    /// Holds `id` (scope and key) for its request; 409 while another request holds it.
    pub(crate) fn hold(&self, id: (String, String)) -> Result<Held<'_>, Problem> {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !set.insert(id.clone()) {
            return Err(Problem::conflict(
                "a request with this Idempotency-Key is in progress; retry once it has answered",
            ));
        }
        Ok(Held { set: self, id })
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let mut set = self.set.0.lock().unwrap_or_else(|e| e.into_inner());
        set.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::{Deadlocks, Resource};
    use crate::{expose, Exposed};

    #[expose(as = "tags", list)]
    pub struct Tag {
        pub id: i64,
    }

    #[expose(as = "notes", list(embed(Tag)))]
    pub struct Note {
        pub id: i64,
    }

    #[test]
    #[should_panic(
        expected = "Note embeds Tag (`embed(Tag)` on its list), but no field of either references the other"
    )]
    fn an_embed_without_a_reference_fails_at_build() {
        let _ = Resource::compile(<Note as Exposed>::MODEL);
    }

    #[test]
    fn deadlocks_open_a_window_of_ordered_writes() {
        let d = Deadlocks::default();
        assert!(!d.recent(), "no deadlock met yet");
        d.met();
        assert!(d.recent(), "just after one");
    }
}
