//! The declarative description of a model that `#[expose]` emits.
//!
//! Everything here is `const`-constructible: the macro writes one `static` [`Model`] per
//! struct, naming fields, types and per-operation policies, and the runtime turns it into
//! routes once, when the router is built.

use crate::field::Field;
use crate::hooks::{BoxFuture, HookCtx, Input};
use crate::problem::Problem;
use crate::scope::Scope;
use crate::validation::FieldErrors;
use crate::value::Value;
use expose_core::{defaults, OperationKind};

/// One exposed struct: its URL segment, table, fields and the operations it allows.
#[derive(Debug)]
pub struct Model {
    /// The Rust name of the struct, for messages.
    pub rust_name: &'static str,
    /// The URL segment: `people` serves `/people` and `/people/{id}`.
    pub path: &'static str,
    /// The SQL table.
    pub table: &'static str,
    /// The struct's documentation comment (lines joined, trimmed); empty when it has none.
    pub doc: &'static str,
    /// Every field of the struct, in declaration order.
    pub fields: &'static [Field],
    /// The operations exposed, each once; any other answers 405.
    pub operations: &'static [Operation],
    /// The declared actions on one row (`#[expose(action(publish, ...))]`), each routed at
    /// `/{path}/{id}/{name}`.
    pub actions: &'static [Action],
    /// The model's own validation (`#[expose(validate = f)]`), run on every row a create,
    /// update or replace writes, after the fields' rules and before any SQL.
    pub validate: Option<ValidateFn>,
    /// The references of its fields to other exposed models
    /// (`#[expose(references = User)] owner_id: i64`), in field order.
    pub relations: &'static [Relation],
}

/// A field's reference to another exposed model's key: a to-one relation from this model
/// (a post's `users`) and a to-many one from the target (a user's `posts`).
#[derive(Debug)]
pub struct Relation {
    /// The referencing field (Rust identifier).
    pub field: &'static str,
    /// The referenced model; a function, so that two models may reference each other.
    pub target: ModelFn,
}

/// A many-to-many relation a read may embed (`embed(Tag(through = PostTag))`): the rows of
/// `target` linked to a parent by the rows of `join`, a model with a reference to each.
#[derive(Debug)]
pub struct Through {
    /// The embedded model (`Tag`).
    pub target: ModelFn,
    /// The join model (`PostTag`), whose list (else retrieve) policy its rows follow too.
    pub join: ModelFn,
}

/// An exposed model's description, by function (`<User as Exposed>::MODEL`).
pub type ModelFn = fn() -> &'static Model;

impl Model {
    /// The policy of `kind`, when the model exposes it.
    pub fn operation(&self, kind: OperationKind) -> Option<&'static Operation> {
        self.operations.iter().find(|op| op.kind == kind)
    }

    /// The action named `name` (its URL segment), when the model declares it.
    pub fn action(&self, name: &str) -> Option<&'static Action> {
        self.actions.iter().find(|a| a.name == name)
    }
}

/// A declared action on one row (`#[expose(action(publish, method = "POST", scope = f))]`):
/// `POST /{path}/{id}/publish` loads the row under the action's scope (404 outside it,
/// nothing written), runs the action's function in a transaction, writes what it set and
/// answers the written row, narrowed by `select=` as any read.
///
/// It runs as an update whose values come from the function rather than from a request
/// body: `op` is that update's policy (kind [`OperationKind::Update`]), whose `pre` hooks
/// end with the action's function, adapted by the macro.
#[derive(Debug)]
pub struct Action {
    /// The URL segment after the key: the function's name.
    pub name: &'static str,
    /// The HTTP method (`POST`, `PUT`, `PATCH` or `DELETE`).
    pub method: &'static str,
    /// The function's documentation comment, when the macro can read it; else empty.
    pub doc: &'static str,
    /// The update it runs: its scope, hooks (the function last among `pre`) and options.
    pub op: Operation,
}

/// The policy of one operation.
///
/// Field lists hold Rust identifiers that the macro has checked against the struct.
#[derive(Debug)]
pub struct Operation {
    /// Which operation this is the policy of.
    pub kind: OperationKind,
    /// Readable fields (list, retrieve) or writable fields (create, update).
    pub fields: &'static [&'static str],
    /// Fields a client may filter on: in a list (`None`: the readable fields), and in an
    /// update or remove chosen by filters on the collection path (`None`: the key only).
    pub filterable: Option<&'static [&'static str]>,
    /// Fields a client may sort on (list); `None` means the readable fields.
    pub sortable: Option<&'static [&'static str]>,
    /// The order used when the client gives none, in the `order=` grammar.
    pub default_order: &'static str,
    /// When true, clients may not send `order`; `default_order` always applies.
    pub fixed_order: bool,
    /// Filters every request gets ANDed in, in the `or=(...)` item grammar
    /// (`is_admin.eq.false`), written with Rust identifiers.
    pub forced_filters: &'static [&'static str],
    /// Page size when the client asks for none.
    pub default_limit: u64,
    /// Largest page a client may ask for; larger requests are clamped to it.
    pub max_limit: u64,
    /// When true, clients may not send `limit`.
    pub fixed_limit: bool,
    /// Most conditions in one request, counting those inside logic trees.
    pub max_conditions: usize,
    /// Deepest nesting of `and(...)` / `or(...)`.
    pub max_depth: usize,
    /// Most items in one `in.(...)` list.
    pub max_in_items: usize,
    /// Hooks run before the operation, in order.
    pub pre: &'static [Hook],
    /// Hooks run after the operation, in order.
    pub post: &'static [Hook],
    /// Per-request row conditions: what may be read (list, retrieve), and written (the
    /// targets of update, replace, remove; the new rows of create, update, replace).
    pub scope: Option<ScopeFn>,
    /// Per-request narrowing of `fields`.
    pub fields_for: Option<FieldsFn>,
    /// Fields the server sets on create / update, whatever the body says.
    pub force: &'static [Force],
    /// Update and remove answer 428 without an `If-Match` header.
    pub require_if_match: bool,
    /// Most rows in one create request (a JSON array body); more is a 413 problem.
    pub max_rows: u64,
    /// Most rows an update or remove chosen by filters may change; more is refused and
    /// nothing is written. A request's `Prefer: max-affected=n` may only lower it.
    pub max_affected: u64,
    /// Update and remove: whether a collection write without any filter (every row in the
    /// scope) is allowed; refused with 400 otherwise.
    pub unfiltered: bool,
    /// List, retrieve: the models a client may embed (`select=title,users(name)`), each
    /// related to this one by a reference on either side.
    pub embed: &'static [ModelFn],
    /// List, retrieve: the models a client may embed many-to-many, each through the rows
    /// of a join model that references both (`embed(Tag(through = PostTag))`).
    pub embed_through: &'static [Through],
    /// List, retrieve: the deepest nesting of embeds (`users(posts(...))` is 2).
    pub embed_depth: usize,
    /// List, retrieve: most embedded rows per parent row and relation; a larger
    /// `rel.limit` is clamped to it.
    pub embed_rows: u64,
    /// Create: whether `Prefer: resolution=merge-duplicates|ignore-duplicates` with
    /// `on_conflict` (an upsert on the key or a `unique` field) is allowed.
    pub upsert: bool,
}

/// A field set by the server on write.
#[derive(Debug)]
pub struct Force {
    /// The field (Rust identifier).
    pub field: &'static str,
    /// `true`: a client value is silently replaced; `false`: a client value is refused (422).
    pub overwrite: bool,
    /// Computes the value for the request.
    pub value: ForceFn,
}

/// A hook function after the macro's adaptation.
pub type Hook = for<'a> fn(&'a mut HookCtx) -> BoxFuture<'a, Result<(), Problem>>;

/// A scope function after the macro's adaptation.
pub type ScopeFn = fn(&HookCtx) -> Result<Scope<()>, Problem>;

/// A `fields_for` function after the macro's adaptation: narrows a set of field bits.
pub type FieldsFn = fn(&HookCtx, &mut u64) -> Result<(), Problem>;

/// A model's `validate` function: the row's input (what the request writes) in, field
/// errors out.
pub type ValidateFn = fn(&Input) -> Result<(), FieldErrors>;

/// A forced-value function after the macro's adaptation.
pub type ForceFn = fn(&HookCtx) -> Result<Value, Problem>;

impl Operation {
    /// The policy of `kind` with every option at its default; the macro writes
    /// `..Operation::of(OperationKind::List)` after the options it sets.
    pub const fn of(kind: OperationKind) -> Operation {
        Operation {
            kind,
            fields: &[],
            filterable: None,
            sortable: None,
            default_order: "",
            fixed_order: false,
            forced_filters: &[],
            default_limit: defaults::LIMIT,
            max_limit: defaults::MAX_LIMIT,
            fixed_limit: false,
            max_conditions: defaults::MAX_CONDITIONS,
            max_depth: defaults::MAX_DEPTH,
            max_in_items: defaults::MAX_IN_ITEMS,
            pre: &[],
            post: &[],
            scope: None,
            fields_for: None,
            force: &[],
            require_if_match: false,
            max_rows: defaults::MAX_ROWS,
            max_affected: defaults::MAX_AFFECTED,
            unfiltered: false,
            upsert: false,
            embed: &[],
            embed_through: &[],
            embed_depth: defaults::EMBED_DEPTH,
            embed_rows: defaults::EMBED_ROWS,
        }
    }
}
