//! A [`Model`] compiled when its router is built: field lists resolved to indices,
//! policies parsed, so that a request does no name lookups it can avoid.

use crate::field_type::FieldType;
// TODO(merge): importers take it from `field`.
pub(crate) use crate::field::FieldSet;
use crate::field::Field;
use crate::model::{Model, Operation};
use crate::query::{self, Filter, OrderKey};
use expose_core::OperationKind;

/// The compiled policy of one operation.
#[derive(Debug)]
pub(crate) struct Policy {
    /// The readable fields (list, retrieve; the key always among them) or the fields a
    /// client may write (create, update); empty for remove.
    pub(crate) fields: FieldSet,
    pub(crate) filterable: FieldSet,
    pub(crate) sortable: FieldSet,
    pub(crate) default_order: Vec<OrderKey>,
    pub(crate) forced: Vec<Filter>,
    pub(crate) op: &'static Operation,
}

/// A model ready to serve: built once per router, shared by its operations.
#[derive(Debug)]
pub(crate) struct Resource {
    pub(crate) model: &'static Model,
    pub(crate) key: usize,
    /// Each exposed operation's policy, indexed by [`OperationKind::index`].
    policies: [Option<Policy>; OperationKind::COUNT],
    /// What create and update answer with: retrieve's fields, else list's, else the key.
    pub(crate) output: FieldSet,
    /// The row version field, bumped by every update.
    pub(crate) version: Option<usize>,
    /// What an `ETag` is computed from: the output fields and the version.
    pub(crate) etag_columns: Vec<crate::query::Column>,
    /// The statements of single-row reads and writes of the default columns, built once
    /// per shape.
    pub(crate) statements: crate::sql::StatementCache,
    /// The default answer columns: the output fields.
    pub(crate) output_columns: Vec<crate::query::Column>,
    /// The longest single-row body rendered so far (bounded), so that a row's buffer is
    /// allocated once at the right size rather than grown.
    row_len: std::sync::atomic::AtomicUsize,
    /// Each field's member name as JSON output writes it, quoted and escaped, with its `:`.
    pub(crate) json_keys: Vec<Box<[u8]>>,
}

impl From<&Resource> for crate::db::error::Subject {
    fn from(res: &Resource) -> Self {
        crate::db::error::Subject {
            path: res.model.path,
            fields: res.model.fields,
        }
    }
}

impl Resource {
    pub(crate) fn field(&self, i: usize) -> &'static Field {
        &self.model.fields[i]
    }

    pub(crate) fn key_field(&self) -> &'static Field {
        self.field(self.key)
    }

    /// The index of a field by its Rust identifier.
    pub(crate) fn by_ident(&self, ident: &str) -> Option<usize> {
        self.model.fields.iter().position(|f| f.ident == ident)
    }

    /// The index of a field by its API name.
    pub(crate) fn by_name(&self, name: &str) -> Option<usize> {
        self.model.fields.iter().position(|f| f.name == name)
    }

    /// The policy of `kind`, when the model exposes it.
    pub(crate) fn policy(&self, kind: OperationKind) -> Option<&Policy> {
        self.policies[kind.index()].as_ref()
    }

    /// Builds the resource; every router of a model builds its own (and its statement
    /// cache), which it owns.
    ///
    /// # Panics
    /// When the model names a field it does not have, or a policy does not parse: the macro
    /// checks both at compile time, so this only fires on a hand-written `Model`.
    pub(crate) fn compile(model: &'static Model) -> Resource {
        let key = model
            .fields
            .iter()
            .position(|f| f.key)
            .unwrap_or_else(|| panic!("model {} has no key field", model.rust_name));
        assert!(model.fields.len() <= 64, "a model has at most 64 fields");
        let mut r = Resource {
            model,
            key,
            policies: Default::default(),
            output: FieldSet::default(),
            version: model.fields.iter().position(|f| f.version),
            etag_columns: Vec::new(),
            statements: Default::default(),
            output_columns: Vec::new(),
            row_len: std::sync::atomic::AtomicUsize::new(128),
            json_keys: model
                .fields
                .iter()
                .map(|f| {
                    let mut key = serde_json::to_vec(f.name).expect("a string serialises");
                    key.push(b':');
                    key.into_boxed_slice()
                })
                .collect(),
        };
        for op in model.operations {
            let policy = match op.kind.reads() {
                true => r.read_policy(op),
                false => r.write_policy(op),
            };
            r.policies[op.kind.index()] = Some(policy);
        }
        let read = [OperationKind::Retrieve, OperationKind::List]
            .into_iter()
            .find_map(|k| r.policy(k));
        r.output = match read {
            Some(p) => p.fields,
            None => {
                let mut s = FieldSet::default();
                s.insert(key);
                s
            }
        };
        r.output_columns = r
            .output
            .iter()
            .map(|field| crate::query::Column { field, alias: None })
            .collect();
        let mut etag = r.output;
        if let Some(v) = r.version {
            etag.insert(v);
        }
        r.etag_columns = etag
            .iter()
            .map(|field| crate::query::Column { field, alias: None })
            .collect();
        r
    }

    /// A buffer for one row's body, sized like the longest row rendered so far.
    pub(crate) fn row_buffer(&self) -> Vec<u8> {
        Vec::with_capacity(self.row_len.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Records the length of a rendered row (up to 4 KiB: one huge row does not make every
    /// buffer huge). Written only when it grows, so the common read stays a shared load.
    pub(crate) fn saw_row(&self, len: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        let len = len.min(4096);
        if len > self.row_len.load(Relaxed) {
            self.row_len.fetch_max(len, Relaxed);
        }
    }

    /// Whether `columns` are [`Self::etag_columns`], the columns of the cached single-row
    /// statements: by address first (the default columns are borrowed from here), then by
    /// value. The output columns are the tag's columns exactly when both lists have the
    /// same length (the tag's are the output's plus the version field, when it is not
    /// already in the output).
    pub(crate) fn is_etag_columns(&self, columns: &[crate::query::Column]) -> bool {
        let etag = self.etag_columns.as_slice();
        std::ptr::eq(columns, etag)
            || (std::ptr::eq(columns, self.output_columns.as_slice())
                && columns.len() == etag.len())
            || columns == etag
    }

    fn set(&self, idents: &[&str], what: &str) -> FieldSet {
        let mut s = FieldSet::default();
        for id in idents {
            let i = self.by_ident(id).unwrap_or_else(|| {
                panic!(
                    "{what} of {} names unknown field {id}",
                    self.model.rust_name
                )
            });
            s.insert(i);
        }
        s
    }

    fn read_policy(&self, op: &'static Operation) -> Policy {
        let mut readable = self.set(op.fields, "read fields");
        readable.insert(self.key);
        let within = |s: FieldSet| FieldSet(s.0 & readable.0);
        let filterable = op
            .filterable
            .map_or(readable, |f| within(self.set(f, "filterable fields")));
        let sortable = op
            .sortable
            .map_or(readable, |f| within(self.set(f, "sortable fields")));
        let default_order = if op.default_order.is_empty() {
            Vec::new()
        } else {
            query::compile_order(self, op.default_order)
                .unwrap_or_else(|e| panic!("default order of {}: {e}", self.model.rust_name))
        };
        let forced = op
            .forced_filters
            .iter()
            .map(|f| {
                query::compile_forced(self, f)
                    .unwrap_or_else(|e| panic!("forced filter of {}: {e}", self.model.rust_name))
            })
            .collect();
        Policy {
            fields: readable,
            filterable,
            sortable,
            default_order,
            forced,
            op,
        }
    }

    fn write_policy(&self, op: &'static Operation) -> Policy {
        Policy {
            fields: self.set(op.fields, "write fields"),
            filterable: FieldSet::default(),
            sortable: FieldSet::default(),
            default_order: Vec::new(),
            forced: Vec::new(),
            op,
        }
    }

    /// The API names of a set of fields, for messages.
    pub(crate) fn names(&self, set: FieldSet) -> String {
        let names: Vec<&str> = set.iter().map(|i| self.field(i).name).collect();
        names.join(", ")
    }

    /// The type of field `i`.
    pub(crate) fn ty(&self, i: usize) -> FieldType {
        self.field(i).ty
    }
}
