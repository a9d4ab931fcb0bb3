//! One field of a model as the runtime sees it, and sets of fields by index.

use crate::field_type::{FieldKind, FieldType};
use crate::rules::Rule;
use crate::value::Value;

/// One field of a model.
#[derive(Debug)]
pub struct Field {
    /// The Rust identifier; attribute field lists name fields by it.
    pub ident: &'static str,
    /// The name in JSON bodies, output and query parameters (serde's rename, if any).
    pub name: &'static str,
    /// The SQL column.
    pub column: &'static str,
    /// The value type, from the Rust type.
    pub ty: FieldType,
    /// Whether the Rust type is an `Option`.
    pub nullable: bool,
    /// Whether this is the primary key.
    pub key: bool,
    /// Whether the database assigns it (never writable).
    pub generated: bool,
    /// Whether the column has a database default, so create may omit it.
    pub default: bool,
    /// Whether this is the row version behind `ETag`s, bumped by every update.
    pub version: bool,
    /// Whether the column has a unique index of its own, so that an upsert may name it in
    /// `on_conflict` (the key is always unique).
    pub unique: bool,
    /// The field's documentation comment (lines joined, trimmed); empty when it has none.
    pub doc: &'static str,
    /// The SQL text of the column's default (`#[expose(default = "FALSE")]`), which the DDL
    /// writes after `DEFAULT`; empty when the attribute gives none.
    pub default_sql: &'static str,
    /// Makes a new key in Rust when a create does not send one
    /// (`#[expose(id, generate = uuid::Uuid::new_v4)]`).
    pub generate: Option<fn() -> Value>,
    /// The foreign key the DDL writes after `REFERENCES` (`users(id)`); empty for none.
    pub references: &'static str,
    /// The rules a value the client writes must pass (`#[expose(validate(...))]`), checked
    /// before any SQL.
    pub rules: &'static [Rule],
    /// For a typed JSON field (`Json<T>`): the check that a written document reads as a
    /// `T`, from its [`FieldKind::SHAPE`](crate::FieldKind::SHAPE).
    pub shape: Option<crate::field_type::JsonShape>,
}

impl Field {
    /// A field called `ident` in Rust, JSON and SQL, with the value type of `T`; the methods
    /// below set the rest. `#[expose]` writes one such line per field:
    /// `Field::of::<i64>("id").key().generated()`.
    pub const fn of<T: FieldKind>(ident: &'static str) -> Field {
        Field {
            ident,
            name: ident,
            column: ident,
            ty: T::TYPE,
            nullable: T::NULLABLE,
            key: false,
            generated: false,
            default: false,
            version: false,
            unique: false,
            doc: "",
            default_sql: "",
            generate: None,
            references: "",
            rules: &[],
            shape: T::SHAPE,
        }
    }

    /// Sets the name in JSON and query parameters.
    pub const fn name(mut self, name: &'static str) -> Field {
        self.name = name;
        self
    }

    /// Sets the SQL column.
    pub const fn column(mut self, column: &'static str) -> Field {
        self.column = column;
        self
    }

    /// Marks the primary key.
    pub const fn key(mut self) -> Field {
        self.key = true;
        self
    }

    /// Marks a field the database assigns.
    pub const fn generated(mut self) -> Field {
        self.generated = true;
        self
    }

    /// Marks a column with a database default.
    pub const fn default(mut self) -> Field {
        self.default = true;
        self
    }

    /// Marks a column with a database default, given as SQL text for the DDL.
    pub const fn default_sql(mut self, sql: &'static str) -> Field {
        self.default = true;
        self.default_sql = sql;
        self
    }

    /// Sets the function that makes a new key in Rust when a create does not send one.
    pub const fn generate(mut self, make: fn() -> Value) -> Field {
        self.generate = Some(make);
        self
    }

    /// Sets the foreign key the DDL writes after `REFERENCES`.
    pub const fn references(mut self, target: &'static str) -> Field {
        self.references = target;
        self
    }

    /// Marks the row version.
    pub const fn version(mut self) -> Field {
        self.version = true;
        self
    }

    /// Marks a column with a unique index of its own.
    pub const fn unique(mut self) -> Field {
        self.unique = true;
        self
    }

    /// Sets the validation rules.
    ///
    /// # Panics
    /// When a rule does not fit the field's type (`email` on an `i32`): evaluated in the
    /// model's constant, so a build error. The macro refuses the types it can read first,
    /// spanned at the rule.
    pub const fn rules(mut self, rules: &'static [Rule]) -> Field {
        let mut i = 0;
        while i < rules.len() {
            if !rules[i].fits(self.ty) {
                panic!("a validation rule does not fit the field's type: length, non_empty, email, url and pattern apply to String fields, range to numbers (whole-number bounds for integers), one_of to String and integer fields");
            }
            i += 1;
        }
        self.rules = rules;
        self
    }

    /// Sets the documentation comment.
    pub const fn doc(mut self, doc: &'static str) -> Field {
        self.doc = doc;
        self
    }
}

/// A set of field indices (a model has at most 64 fields; the macro checks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FieldSet(pub(crate) u64);

impl FieldSet {
    pub(crate) fn contains(self, i: usize) -> bool {
        i < 64 && self.0 & (1 << i) != 0
    }
    pub(crate) fn insert(&mut self, i: usize) {
        self.0 |= 1 << i;
    }
    pub(crate) fn iter(self) -> impl Iterator<Item = usize> {
        (0..64).filter(move |i| self.contains(*i))
    }
}
