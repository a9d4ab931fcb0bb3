//! The parsed attribute and struct, keeping the original tokens for error spans.

use syn::{Ident, LitInt, LitStr, Type};

/// One field of the struct.
pub(crate) struct Field {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    /// Name in JSON and query parameters.
    pub(crate) name: String,
    /// SQL column.
    pub(crate) column: String,
    pub(crate) key: Option<Ident>,
    pub(crate) generated: Option<Ident>,
    pub(crate) default: bool,
    /// `#[expose(default = "...")]`: the column default's SQL text, for the DDL.
    pub(crate) default_sql: Option<LitStr>,
    /// `#[expose(id, generate = path)]`: makes the key in Rust when create gets none.
    pub(crate) generate: Option<syn::Path>,
    /// `#[expose(references = "users(id)")]`: the foreign key the DDL writes.
    pub(crate) references: Option<LitStr>,
    /// `#[expose(references = User)]`: a relation to an exposed model's key.
    pub(crate) references_model: Option<syn::Path>,
    /// `#[expose(version)]`: the row version behind ETags, bumped on every update.
    pub(crate) version: Option<Ident>,
    /// `#[expose(unique)]`: a column with a unique index of its own (an upsert's target).
    pub(crate) unique: Option<Ident>,
    /// The field's doc comment.
    pub(crate) doc: String,
    /// `#[expose(validate(...))]`: the field's rules, as written.
    pub(crate) rules: Vec<Rule>,
}

/// One rule of `validate(...)` on a field, with its name for spans.
pub(crate) struct Rule {
    pub(crate) ident: Ident,
    pub(crate) kind: RuleKind,
}

/// A rule's arguments; each value keeps its tokens for error spans.
pub(crate) enum RuleKind {
    Length {
        min: Option<LitInt>,
        max: Option<LitInt>,
    },
    NonEmpty,
    Email,
    Url,
    /// Boxed: a bound keeps its expression, much larger than the other rules.
    Range {
        min: Option<Box<(NumLit, syn::Expr)>>,
        max: Option<Box<(NumLit, syn::Expr)>>,
    },
    Pattern(LitStr),
    OneOf(Vec<(ChoiceLit, syn::Expr)>),
}

/// A number literal, possibly negated.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum NumLit {
    Int(i128),
    Float(f64),
}

/// A value of `one_of(...)`.
#[derive(Clone, PartialEq, Debug)]
pub(crate) enum ChoiceLit {
    Text(String),
    Int(i128),
    /// Anything else (refused by `check`).
    Other,
}

pub(crate) use expose_core::OperationKind;

/// The options of one operation (or of `all(...)`) as written.
#[derive(Default, Clone)]
pub(crate) struct Op {
    pub(crate) fields: Option<LitStr>,
    pub(crate) filter: Option<LitStr>,
    pub(crate) sort: Option<LitStr>,
    pub(crate) order: Option<LitStr>,
    pub(crate) fixed_order: Option<LitStr>,
    pub(crate) wheres: Vec<LitStr>,
    pub(crate) limit: Option<LitInt>,
    pub(crate) max_limit: Option<LitInt>,
    pub(crate) fixed_limit: Option<LitInt>,
    pub(crate) max_conditions: Option<LitInt>,
    pub(crate) max_depth: Option<LitInt>,
    pub(crate) max_in: Option<LitInt>,
    pub(crate) pre: Vec<syn::Path>,
    pub(crate) post: Vec<syn::Path>,
    pub(crate) scope: Option<syn::Path>,
    pub(crate) fields_for: Option<syn::Path>,
    /// `force(field = f)` (overwrite false) and `overwrite(field = f)` (true).
    pub(crate) force: Vec<(Ident, syn::Path, bool)>,
    /// Writes need `If-Match` (428 without).
    pub(crate) require_if_match: Option<Ident>,
    /// Create: most rows in one request (a JSON array body).
    pub(crate) max_rows: Option<LitInt>,
    /// Create: `Prefer: resolution=...` with `on_conflict` is allowed.
    pub(crate) upsert: Option<Ident>,
    /// Update and remove on the collection path: most rows one request may change.
    pub(crate) max_affected: Option<LitInt>,
    /// Update and remove on the collection path: a request without any filter is allowed.
    pub(crate) unfiltered: Option<Ident>,
    /// List, retrieve: `embed(User, Comment, Tag(through = PostTag))`, the models a
    /// client may embed.
    pub(crate) embed: Option<(Ident, Vec<EmbedModel>)>,
    /// List, retrieve: deepest nesting of embeds.
    pub(crate) embed_depth: Option<LitInt>,
    /// List, retrieve: most embedded rows per parent and relation.
    pub(crate) embed_rows: Option<LitInt>,
}

/// One model of `embed(...)`: `User` (related by a reference on either side), or
/// `Tag(through = PostTag)` (many-to-many through the rows of a join model).
#[derive(Clone)]
pub(crate) struct EmbedModel {
    pub(crate) model: syn::Path,
    pub(crate) through: Option<syn::Path>,
}

/// The struct-level attribute.
#[derive(Default)]
pub(crate) struct Attr {
    pub(crate) path: Option<LitStr>,
    pub(crate) table: Option<LitStr>,
    pub(crate) all: Op,
    /// Operations in the order written, with the keyword for spans.
    pub(crate) ops: Vec<(OperationKind, Ident, Op)>,
    /// `validate = f`: the model's own validation function.
    pub(crate) validate: Option<syn::Path>,
    /// `state = AppState`: the state type the model's hooks read, checked against the
    /// router's state at compile time.
    pub(crate) state: Option<Type>,
    /// `action(publish, ...)`: the declared actions on one row, in the order written.
    pub(crate) actions: Vec<Action>,
    /// `view = AdminUsers`: on a further `#[expose]` of the struct, the marker type that
    /// this exposure generates and implements the model for.
    pub(crate) view: Option<Ident>,
}

/// One `action(function, options...)` as written.
pub(crate) struct Action {
    /// The function to run; its last segment names the route (`/{path}/{id}/publish`).
    pub(crate) func: syn::Path,
    pub(crate) method: Option<LitStr>,
    pub(crate) scope: Option<syn::Path>,
    pub(crate) pre: Vec<syn::Path>,
    pub(crate) post: Vec<syn::Path>,
    pub(crate) doc: Option<LitStr>,
    pub(crate) require_if_match: Option<Ident>,
}
