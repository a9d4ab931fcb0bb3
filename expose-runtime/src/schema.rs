//! A model's fields as the query planner, the SQL writer and the JSON output read them (the
//! key, lookups by name, each field's JSON member name, resolved once), and the compiled
//! policy of an operation that the planner applies.

use crate::db::error::Subject;
use crate::field::{Field, FieldSet};
use crate::field_type::FieldType;
use crate::filter::{Filter, OrderKey};
use crate::model::{Model, Operation};
use crate::problem::Offender;
use crate::rules::Rule;
use crate::value::Value;

/// The fields of a model, resolved.
#[derive(Debug)]
pub(crate) struct Schema {
    pub(crate) model: &'static Model,
    /// The key field's index.
    pub(crate) key: usize,
    /// The row version field, bumped by every update.
    pub(crate) version: Option<usize>,
    /// Each field's member name as JSON output writes it, quoted and escaped, with its `:`.
    pub(crate) json_keys: Vec<Box<[u8]>>,
    /// Every `pattern` rule of the fields, compiled once.
    patterns: Vec<(&'static str, regex::Regex)>,
    /// The models a request may embed, through this model's embed lists and theirs, each
    /// once (a router's model only; empty for the related models themselves).
    pub(crate) related: Vec<Related>,
}

/// A model reachable by embedding: its schema and the policy every embed of it follows:
/// its list's, else (a model read by key only) its retrieve's.
#[derive(Debug)]
pub(crate) struct Related {
    pub(crate) schema: Schema,
    pub(crate) policy: Policy,
}

/// Whether two descriptions are the same model (a `const` may be copied, so its address is
/// not enough).
pub(crate) fn same_model(a: &Model, b: &Model) -> bool {
    std::ptr::eq(a, b) || (a.rust_name == b.rust_name && a.path == b.path && a.table == b.table)
}

impl Schema {
    /// The schema of `model`.
    ///
    /// # Panics
    /// When the model has no key field or more than 64 fields: the macro refuses both at
    /// compile time, so this only fires on a hand-written `Model`.
    pub(crate) fn new(model: &'static Model) -> Schema {
        let key = model
            .fields
            .iter()
            .position(|f| f.key)
            .unwrap_or_else(|| panic!("model {} has no key field", model.rust_name));
        assert!(model.fields.len() <= 64, "a model has at most 64 fields");
        Schema {
            model,
            key,
            version: model.fields.iter().position(|f| f.version),
            json_keys: model
                .fields
                .iter()
                .map(|f| {
                    let mut key = serde_json::to_vec(f.name).expect("a string serialises");
                    key.push(b':');
                    key.into_boxed_slice()
                })
                .collect(),
            patterns: model
                .fields
                .iter()
                .flat_map(|f| f.rules)
                .filter_map(|r| match r {
                    Rule::Pattern(p) => Some(*p),
                    _ => None,
                })
                .map(|p| {
                    let re = regex::Regex::new(p).unwrap_or_else(|e| {
                        panic!("model {}: invalid pattern `{p}`: {e}", model.rust_name)
                    });
                    (p, re)
                })
                .collect(),
            related: Vec::new(),
        }
    }

    /// The index in [`Schema::related`] of `model`.
    pub(crate) fn related_index(&self, model: &Model) -> Option<usize> {
        self.related
            .iter()
            .position(|r| same_model(r.schema.model, model))
    }

    /// Checks a value written to field `i` against the field's rules; adds one offender
    /// per rule it breaks, named `name`, and returns how many.
    pub(crate) fn check_rules(
        &self,
        i: usize,
        v: &Value,
        name: &str,
        out: &mut Vec<Offender>,
    ) -> usize {
        let mut broken = 0;
        for rule in self.field(i).rules {
            let pattern = match rule {
                Rule::Pattern(p) => self.patterns.iter().find(|(q, _)| q == p).map(|(_, r)| r),
                _ => None,
            };
            if let Err(detail) = rule.check(v, pattern) {
                out.push(Offender {
                    name: name.to_owned(),
                    location: "body",
                    detail,
                    rule: Some(rule.name()),
                });
                broken += 1;
            }
        }
        broken
    }

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

    /// The API names of a set of fields, for messages.
    pub(crate) fn names(&self, set: FieldSet) -> String {
        let names: Vec<&str> = set.iter().map(|i| self.field(i).name).collect();
        names.join(", ")
    }

    /// The type of field `i`.
    pub(crate) fn ty(&self, i: usize) -> FieldType {
        self.field(i).ty
    }

    /// The set of fields named by `idents` (Rust identifiers), for the policy `what`.
    ///
    /// # Panics
    /// On an unknown name, which the macro refuses at compile time.
    pub(crate) fn set(&self, idents: &[&str], what: &str) -> FieldSet {
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
}

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

impl From<&Schema> for Subject {
    fn from(s: &Schema) -> Subject {
        Subject {
            path: s.model.path,
            table: s.model.table,
            fields: s.model.fields,
        }
    }
}
