//! # expose
//!
//! One attribute on a struct gives you the list / retrieve / create / update / remove /
//! replace handlers of a REST API on [axum], backed by [sqlx] on SQLite, PostgreSQL or MySQL/MariaDB.
//!
//! ```
//! use expose_runtime::{expose, Db};
//!
//! #[expose(
//!     as = "people",
//!     list(fields = "-password"),
//!     retrieve(fields = "-password"),
//!     create(fields = "name,email,password,age,bio"),
//!     update(fields = "name,email,password,age,bio"),
//!     remove,
//! )]
//! pub struct Person {
//!     #[expose(id, generated)]
//!     pub id: i64,
//!     pub name: String,
//!     pub email: String,
//!     pub password: String,
//!     pub age: i32,
//!     #[expose(default)]
//!     pub is_admin: bool,
//!     pub bio: Option<String>,
//!     #[expose(generated)]
//!     pub created_at: chrono::DateTime<chrono::Utc>,
//! }
//!
//! # async fn run() -> Result<(), sqlx::Error> {
//! let db = Db::connect("sqlite::memory:").await?;
//! let app: axum::Router = axum::Router::new().merge(Person::router()).with_state(db);
//! # let _ = app; Ok(()) }
//! ```
//!
//! The attribute's reference is on [`expose`]; what a client may send is described in the
//! README. Requests the API refuses are answered with a [`Problem`]. Serve the router with
//! [`serve()`] (timeouts and a cap on connections, [`ServeConfig`]) and stop it with
//! [`shutdown_signal`].

// One `unsafe` block in the crate, allowed where it is: the FFI call that turns SQLite's
// memory statistics off (`db/sqlite_memory.rs`).
#![deny(unsafe_code)]

// Lets `#[expose]`, whose expansion names `::expose_runtime`, be used in this crate's tests.
extern crate self as expose_runtime;

mod body;
mod column_types;
mod conditional;
mod config;
mod db;
mod ddl;
mod decimal;
mod endpoint;
pub mod endpoints;
mod field;
mod field_type;
mod filter;
mod handlers;
pub mod hooks;
mod model;
pub mod openapi;
mod output;
mod problem;
mod query;
mod resource;
mod rfc3339;
mod router;
mod rules;
mod schema;
pub mod scope;
mod serve;
mod shutdown;
mod sql;
mod validation;
mod value;
mod verify;

pub use config::RouterConfig;
pub use db::{Backend, ColumnError, ColumnIndex, Db, DbState, FromRow, FromValue, PoolConfig, Row};
pub use ddl::{create_tables, DdlError};
pub use decimal::sqlite_collation;
pub use endpoints::{Call, Endpoints, OperationHandler};
pub use field_type::{ArrayItem, FieldKind, FieldType, JsonShape};
pub use hooks::{BoxFuture, HookCtx, Input, OperationKind, Record, StateIs};
pub use model::{Model, ModelFn, Relation, Through};
pub use openapi::OpenApi;
pub use problem::{Offender, Problem, PROBLEM_JSON};
pub use router::{method_not_allowed, not_found, ready};
pub use rules::{Choice, Num, Rule};
pub use scope::{Col, Cond, FieldMask, IntoScope, Scope};
pub use serve::{serve, Serve, ServeConfig};
pub use shutdown::shutdown_signal;
/// A typed JSON field: `pub settings: expose_runtime::Json<Settings>` is a JSON column
/// (as `serde_json::Value` is: `JSONB`, `JSON`, `TEXT`; `cs` and `cd` filters) whose written
/// documents must deserialize as a `Settings` (else a 422 naming the field). It is sqlx's
/// `Json`, so user SQL binds and decodes it too.
pub use sqlx::types::Json;
pub use validation::{ErrorField, FieldErrors};
pub use value::{Array, Value, ValueError};
pub use verify::{verify, Mismatch, MismatchKind, VerifyError};

/// Turns a struct with named fields into a REST resource.
///
/// ```
/// use expose_runtime::{expose, Db};
///
/// /// A person, exposed at `/people`.
/// #[expose(
///     as = "people",                                  // GET/POST /people, GET/PATCH/DELETE /people/{id}
///     all(fields = "-password"),                      // no operation reads or writes the password...
///     list(order = "name", limit = 20),
///     retrieve,
///     create(fields = "name,email,password,age"),     // ...but create and update list it explicitly
///     update(fields = "name,email,password,age"),
///     remove,
/// )]
/// pub struct Person {
///     #[expose(id, generated)]
///     pub id: i64,
///     pub name: String,
///     pub email: String,
///     pub password: String,
///     pub age: i32,
///     #[expose(default)]
///     pub is_admin: bool,
/// }
///
/// fn app(db: Db) -> axum::Router {
///     axum::Router::new().merge(Person::router()).with_state(db)
/// }
/// ```
///
/// The struct comes out unchanged (minus the field attributes), next to:
/// - an implementation of [`Exposed`]: a `static` model description naming every field, its type and
///   each operation's policy (`cargo expand` shows it; the runtime does the work);
/// - `Person::router()` and `Person::router_with(RouterConfig)`: an `axum::Router<S>` for any
///   state `S` from which a [`Db`] can be taken (`Db: FromRef<S>`, see [`DbState`]; with
///   `state = T`, only `T`);
/// - `Person::endpoints()`: an [`Endpoints`] giving each operation on its own (a
///   `MethodRouter` to mount at any path, a router without some operations, and [`Call`]: an
///   operation run from a custom handler with conditions of its own);
/// - `Person::FIELDS`, of the generated type `PersonFields`: one typed [`Col`] handle per
///   field, for scopes and `fields_for`;
/// - `Person::MODEL`, the model's description, for [`verify()`] at start and
///   [`Model::create_table`].
///
/// Structs only: an enum, a union, a tuple or unit struct, or a struct with generic
/// parameters is refused. A model has at most 64 fields.
///
/// # Struct options
///
/// | option | meaning | default |
/// |---|---|---|
/// | `as = "people"` | the URL segment: `/people` and `/people/{id}`; letters, digits, `-`, `_` | required |
/// | `table = "person"` | the SQL table | the `as` value |
/// | `state = AppState` | the state type the hooks read (`ctx.state::<AppState>()`): `router()` then compiles only for a router served with it ([`StateIs`]) | any state with a `Db` |
/// | `list`, `retrieve`, `create`, `update`, `remove`, `replace` | the operations exposed, each bare or with options in parentheses; any other answers 405 | at least one is required |
/// | `all(...)` | options shared by every operation that they apply to | none |
/// | `validate = check_loan` | the model's own validation, for rules across fields: `fn(&Input) -> Result<(), FieldErrors>`, run on every row a write body holds (see [Validation](#validation)) | none |
/// | `action(publish, ...)` | a declared action on one row at `/{path}/{id}/publish` (see [Actions](#actions)); repeatable | none |
/// | `view = AdminUsers` | on a further `#[expose]` of the struct only: the marker type this exposure generates (see [Several exposures](#several-exposures)) | none |
///
/// # Actions
///
/// `action(f, method = "POST", scope = s, pre = [..], post = [..], require_if_match, doc = "..")`
/// routes `{method} /{path}/{id}/{f's name}` to `async fn f(row: R, ctx: &mut HookCtx) ->
/// Result<(), Problem>`, where `R` is the struct (with `serde::Deserialize`) or any type serde
/// deserializes from the row's fields. The row is loaded and locked under the action's scope
/// (`scope`, else `all`'s, and `all`'s `where`) in a transaction: outside it the answer is
/// 404 and nothing is written. `f` sets what is written with `ctx.input_mut()?.set(...)`
/// (nothing set: nothing written) and may run statements of its own (`ctx.execute`) in the
/// same transaction; a problem it returns rolls everything back. The answer is the written
/// row, narrowed by `?select=`, with its `ETag`; another method on the path is a 405 with
/// `Allow`. `method` is `POST` (default), `PUT`, `PATCH` or `DELETE`; the action's `pre` hooks
/// (after `all`'s) run before `f`, its `post` hooks after the write.
///
/// ```
/// use expose_runtime::{expose, Cond, HookCtx, Problem};
///
/// #[derive(serde::Deserialize)]
/// #[expose(as = "posts", list, retrieve, action(publish, scope = not_archived))]
/// pub struct Post {
///     pub id: i64,
///     pub published: bool,
///     pub archived: bool,
/// }
///
/// fn not_archived(_: &HookCtx) -> Result<Cond<Post>, Problem> {
///     Ok(Post::FIELDS.archived.eq(false))
/// }
///
/// /// `POST /posts/{id}/publish`.
/// async fn publish(post: Post, ctx: &mut HookCtx) -> Result<(), Problem> {
///     if !post.published {
///         ctx.input_mut()?.set(Post::FIELDS.published, true)?;
///     }
///     Ok(())
/// }
/// # let _ = Post::router::<expose_runtime::Db>();
/// ```
///
/// # Several exposures
///
/// A struct may carry further `#[expose(view = Name, ...)]` attributes: each generates
/// `pub struct Name;`, exposed with that attribute's path and policies over rows of the
/// struct, with its own `Name::router()`, `Name::endpoints()`, `Name::FIELDS` and
/// `Name::MODEL` (its scopes and `fields_for` take `Cond<Name>` / `FieldMask<Name>`). Field
/// attributes are the struct's, shared by every exposure. A further `#[expose]` without
/// `view` is a compile error that says so.
///
/// ```
/// use expose_runtime::{expose, Db};
///
/// #[expose(as = "users", all(fields = "-token"), list)]
/// #[expose(view = AdminUsers, as = "users", all(fields = "-token"), list, update(fields = "is_admin"))]
/// pub struct User {
///     pub id: i64,
///     pub name: String,
///     pub is_admin: bool,
///     pub token: String,
/// }
///
/// let app: axum::Router<Db> = axum::Router::new()
///     .merge(User::router())
///     .nest("/admin", AdminUsers::router());
/// # let _ = app;
/// ```
///
/// An operation's own option wins over the same option in `all(...)`; `where`, `pre`, `post`
/// and `force`/`overwrite` are combined (those of `all(...)` first). `all(fields = ...)` is
/// applied to each operation's own default set: `all(fields = "-password")` hides the
/// password from reads and writes alike; a write that must accept it lists its own `fields`.
/// `all(filter = ...)` is the list's only: the filters of a collection update or remove are
/// given on that operation.
///
/// # Operations
///
/// | operation | request | does |
/// |---|---|---|
/// | `list` | `GET /people` | a page of rows, filtered, ordered and bounded by the list options |
/// | `retrieve` | `GET /people/{id}` | one row |
/// | `create` | `POST /people` | a new row from a JSON object, or several from a JSON array (at most `max_rows`); with `upsert`, a duplicate may be merged or ignored |
/// | `update` | `PATCH /people/{id}`, `PATCH /people?<filters>` | the fields in the body written to the row with that key, or to every row the filters match (at most `max_affected`) |
/// | `remove` | `DELETE /people/{id}`, `DELETE /people?<filters>` | the row with that key deleted, or every row the filters match (at most `max_affected`) |
/// | `replace` | `PUT /people/{id}` | the body, every writable field, replaces the row with that key (200), or is inserted with that key when there is none (201) |
///
/// A collection update or remove filters with the list's query syntax (`?team=eq.sales`), on
/// the fields of its `filter` option (the key only by default); one without any filter is
/// refused unless the operation is `unfiltered`. `scope` and `where` restrict every write
/// as they restrict reads: a row outside them is never written; and a write whose resulting
/// row falls outside what the scope lets the caller write is refused (403, nothing written;
/// see [`scope`]).
///
/// # Operation options
///
/// Field names in options are always the Rust names, whatever serde renames them to.
///
/// | option | operations | meaning | default |
/// |---|---|---|---|
/// | `fields = "a,b"` or `"-a,-b"` | list, retrieve, create, update, replace | readable fields (reads) or the fields a client may send (writes): only those, or all but those | reads: every field; create: every field neither `generated` nor `version`; update and replace: the same, minus the key |
/// | `filter = "a,b"` or `"-a"` | list, update, remove | fields a client may filter on: in a list (`?age=gt.30`), each readable in it; in `PATCH /people?...` and `DELETE /people?...`, each returned by `list` or `retrieve` | list: the readable fields; update, remove: the key only |
/// | `sort = "a,b"` or `"-a"` | list | fields a client may `order` by; each must be readable | the readable fields |
/// | `order = "age.desc,name"` | list | the order when the client sends none (modifiers `asc`, `desc`, `nullsfirst`, `nullslast`) | the key |
/// | `fixed_order = "..."` | list | an order the client cannot change (`order=` is refused); not with `order` | none |
/// | `where = "is_admin.eq.false"` | list, retrieve, update, remove, replace | a filter ANDed into every request: `field.op.value`, `field.not.op.value`, or a group `or(...)` / `and(...)`; repeat the option for several | none |
/// | `limit = 100` | list | page size when the client asks for none | 100 |
/// | `max_limit = 1000` | list | largest page; larger requests are clamped | 1000 |
/// | `fixed_limit = 20` | list | a page size the client cannot change | none |
/// | `max_conditions = 50` | list | most filter conditions in one request | 50 |
/// | `max_depth = 8` | list | deepest nesting of `and(...)` / `or(...)` | 8 |
/// | `max_in = 100` | list | most items in one `in.(...)` list | 100 |
/// | `pre = [f, g]`, `post = [h]` | all six | hooks run before / after the operation, in its transaction (a single hook may be written `pre = f`) | none |
/// | `scope = f` | all six | per-request row conditions: rows a request may not read (or, for update, replace and remove, write) do not exist (404); a create, update or replace leaving a row it may not write is refused (403, nothing written) | none |
/// | `fields_for = f` | list, retrieve, create, update, replace | per-request narrowing of `fields` | none |
/// | `force(field = f)` | create, update, replace | the server sets `field`; a client that sends it gets 422 | none |
/// | `overwrite(field = f)` | create, update, replace | the server sets `field`; a client value is silently replaced | none |
/// | `require_if_match` | update, remove, replace | requests without `If-Match` answer 428 | off |
/// | `max_rows = 1000` | create | most rows in one request's JSON array; more answers 413 | 1000 |
/// | `upsert` | create | allows `Prefer: resolution=merge-duplicates` (or `ignore-duplicates`) with `?on_conflict=` naming the key or a `unique` field; needs `update` exposed too, and a key the client sends or a `unique` field | off |
/// | `max_affected = 1000` | update, remove | most rows one collection write may change; above it the request answers 400 and nothing is written (`Prefer: max-affected=n` may only lower it) | 1000 |
/// | `unfiltered` | update, remove | allows a collection write without any filter (every row in `scope` and `where`); refused with 400 otherwise | off |
/// | `embed(User, Comment)` | list, retrieve | the exposed models a client may embed in `select`; `Tag(through = PostTag)` many-to-many through a join model (see [Relations](#relations)) | none |
/// | `embed_depth = 2` | list, retrieve | the deepest nesting of embeds (`users(posts(...))` is 2); deeper is refused with 400 | 1 |
/// | `embed_rows = 20` | list, retrieve | most embedded rows per parent row and relation; a larger `rel.limit` is clamped to it | 100 |
///
/// Operators in `where`: `eq`, `neq`, `gt`, `gte`, `lt`, `lte`, `like`, `ilike` (`String`
/// fields only; `*` is the wildcard), `in.(a,b)`, `is.null`, `is.not_null`, and `is.true`,
/// `is.false`, `is.unknown` (`bool` fields only). `bool` fields are not ordered (no `gt`...);
/// JSON fields take only `is`.
///
/// ```
/// use expose_runtime::expose;
///
/// #[expose(
///     as = "articles",
///     all(fields = "-draft_notes"),
///     list(
///         filter = "title,published,rating",
///         sort = "-title",                        // every readable field but the title
///         fixed_order = "rating.desc.nullslast,id",
///         where = "published.is.true",
///         where = "rating.gte.1",
///         fixed_limit = 25,
///         max_conditions = 10,
///         max_depth = 2,
///         max_in = 20,
///     ),
///     retrieve(where = "published.is.true"),
///     create(fields = "title,draft_notes"),        // `published` keeps its database default
///     update,
///     remove,
/// )]
/// pub struct Article {
///     #[expose(id, generated)]
///     pub id: i64,
///     pub title: String,
///     pub draft_notes: Option<String>,
///     #[expose(default)]
///     pub published: bool,
///     pub rating: Option<i32>,
/// }
/// ```
///
/// Writes on many rows, upserts and replace:
///
/// ```
/// use expose_runtime::{expose, Db};
///
/// #[expose(
///     as = "contacts",
///     list(fields = "-notes"),
///     retrieve,
///     create(upsert, max_rows = 500),     // POST a JSON array of up to 500 contacts;
///                                         // ?on_conflict=email merges duplicates
///     update(filter = "email,team", max_affected = 50, where = "archived.is.false"),
///                                         // PATCH /contacts?team=eq.sales, at most 50 rows
///     remove(filter = "team", unfiltered),  // DELETE /contacts empties the table
///     replace,                            // PUT /contacts/{id}: name, email, team, notes, archived
/// )]
/// pub struct Contact {
///     #[expose(id, generated)]
///     pub id: i64,
///     #[expose(unique)]
///     pub email: String,
///     pub name: String,
///     pub team: Option<String>,
///     pub notes: Option<String>,
///     #[expose(default)]
///     pub archived: bool,
/// }
///
/// # async fn run() -> Result<(), sqlx::Error> {
/// let db = Db::connect("sqlite::memory:").await?;
/// let app: axum::Router = axum::Router::new().merge(Contact::router()).with_state(db);
/// # let _ = app; Ok(()) }
/// ```
///
/// # Functions: hooks, scopes, `fields_for`, forced values
///
/// Each is a path to a function of this exact signature (`Model` is the struct, `T` the
/// forced field's type); a wrong one is a type error at the path in the attribute.
///
/// | option | signature |
/// |---|---|
/// | `pre`, `post` | `async fn(&mut HookCtx) -> Result<(), Problem>` (its future must be `Send`) |
/// | `scope` | `fn(&HookCtx) -> Result<Option<Cond<Model>>, Problem>` (`None`: every row), or `Result<Scope<Model>, Problem>` when what may be written differs from what may be read |
/// | `fields_for` | `fn(&HookCtx, &mut FieldMask<Model>) -> Result<(), Problem>` |
/// | `force(field = f)`, `overwrite(field = f)` | `fn(&HookCtx) -> Result<T, Problem>` |
///
/// See [`hooks`] and [`scope`] for what they can do.
///
/// ```
/// use expose_runtime::{expose, Cond, FieldMask, HookCtx, Problem};
///
/// #[derive(Clone)]
/// struct User { id: i64, admin: bool }
///
/// fn user(ctx: &HookCtx) -> Result<&User, Problem> {
///     ctx.extension::<User>().ok_or_else(|| Problem::unauthorized("sign in first"))
/// }
///
/// async fn signed_in(ctx: &mut HookCtx) -> Result<(), Problem> {
///     user(ctx).map(|_| ())
/// }
///
/// async fn audit(_ctx: &mut HookCtx) -> Result<(), Problem> {
///     Ok(())
/// }
///
/// /// Admins see every post, others their own.
/// fn own_posts(ctx: &HookCtx) -> Result<Option<Cond<Post>>, Problem> {
///     let u = user(ctx)?;
///     Ok((!u.admin).then(|| Post::FIELDS.owner_id.eq(u.id)))
/// }
///
/// /// Only admins read or write `pinned`.
/// fn pinning(ctx: &HookCtx, fields: &mut FieldMask<Post>) -> Result<(), Problem> {
///     if !user(ctx)?.admin {
///         fields.remove(Post::FIELDS.pinned);
///     }
///     Ok(())
/// }
///
/// fn current_user_id(ctx: &HookCtx) -> Result<i64, Problem> {
///     user(ctx).map(|u| u.id)
/// }
///
/// #[expose(
///     as = "posts",
///     all(pre = [signed_in], scope = own_posts, fields_for = pinning),
///     list,
///     retrieve,
///     create(force(owner_id = current_user_id), post = [audit]),
///     update(overwrite(owner_id = current_user_id), require_if_match),
///     remove(require_if_match, post = [audit]),
/// )]
/// pub struct Post {
///     #[expose(id, generated)]
///     pub id: i64,
///     pub owner_id: i64,
///     pub body: String,
///     #[expose(default)]
///     pub pinned: bool,
///     #[expose(version, default)]
///     pub version: i64,
/// }
/// ```
///
/// # Field options
///
/// `#[expose(...)]` on a field takes:
///
/// | option | meaning | default |
/// |---|---|---|
/// | `id` | the primary key; exactly one per model | the field named `id` |
/// | `generated` | the database assigns it (serial key, timestamp); never writable | off |
/// | `default` | the column has a database default, so create may omit it | off |
/// | `default = "FALSE"` | the same, with the default's SQL text, which [`Model::create_table`] writes after `DEFAULT` | none: the DDL refuses a bare `default` |
/// | `generate = uuid::Uuid::new_v4` | the key only: a `fn() -> T` of the key's type that makes the key when a create sends none (where the database has no default); the client may still send one | off |
/// | `references = User` | a relation to the exposed model `User`, whose key the field holds (checked at compile time: `User` has `#[expose]`, its key has the field's type, or `Option` of it); [`Model::create_table`] writes the foreign key; see [Relations](#relations) | none |
/// | `references = "users (id)"` | the foreign key [`Model::create_table`] writes after `REFERENCES`, for a table without a model | none |
/// | `version` | the row version behind `ETag`s, bumped by every update; an integer; never writable; at most one | off |
/// | `column = "person_id"` | the SQL column | the field name |
/// | `unique` | the column has a unique index of its own, so `?on_conflict=` of an upsert may name it; not on the key, which is unique already | off |
/// | `validate(...)` | rules every value a client writes must pass (see [Validation](#validation)) | none |
///
/// `#[serde(rename = "...")]` on a field and `#[serde(rename_all = "...")]` on the struct set
/// the name the field has in JSON bodies, output and query parameters; the attribute's field
/// lists keep using the Rust names. Other serde options are ignored.
///
/// ```
/// use expose_runtime::expose;
/// use serde::Serialize;
///
/// #[derive(Serialize)]
/// #[serde(rename_all = "camelCase")]
/// #[expose(as = "accounts", table = "account", list(sort = "created_on"), retrieve)]
/// pub struct Account {
///     #[expose(id, column = "account_id")]
///     pub id: uuid::Uuid,
///     #[serde(rename = "name")]
///     pub display_name: String,                // `name` in JSON and in `?name=eq.x`
///     pub created_on: chrono::NaiveDate,       // `createdOn`
///     pub settings: Option<serde_json::Value>,
/// }
/// ```
///
/// # Relations
///
/// `#[expose(references = User)] owner_id: i64` makes two relations: a post's `users` (one
/// user, or `null`) and a user's `posts` (an array). A read lists the models a client may
/// embed with `embed(...)`; the client then asks as in PostgREST:
///
/// - `GET /posts?select=id,title,users(name)`, `?select=*,author:users(name)`,
///   `GET /users/1?select=name,posts(id,title)`, nested `posts(title,comments(body))`
///   (each level under the embedded model's own `embed` list, within `embed_depth`);
/// - on the embedded rows: `posts.published=eq.true`, `posts.order=id.desc`,
///   `posts.limit=3`, `posts.offset=3` (per parent row, at most `embed_rows`);
/// - `posts!inner(title)`: only the parents with a matching embedded row;
///   `posts=is.null`: only those without (`not.is.null`: with); both on embeds at the top
///   of `select`;
/// - two references to one model (`author_id`, `reviewer_id`): the client names the field,
///   `users!author_id(name)`; without it the request is refused as ambiguous.
/// - `...users(author:name)`: a to-one embed's fields written among the parent's (`null`
///   each when it has no row).
///
/// An embedded model is read under its own `list` policy (its `retrieve`'s when it exposes
/// no list), as the same caller reading it directly: its readable fields (a hidden field
/// cannot be selected, filtered or sorted on, and is refused as a missing field is), its
/// `fields_for`, its `scope` (a scoped-out to-one row is `null`, scoped-out children are
/// absent) and its `where`. Its `pre` hooks run once per request, before any statement,
/// with [`HookCtx::embedded_in`] naming the resource read, and a refusal refuses the
/// request; a model whose policy has `post` hooks cannot be embedded (400). Each level of
/// embeds is one statement, whatever the number of parent rows (their keys bound in
/// `IN (...)`, 1000 per statement). Unknown or not embeddable relations, too deep a
/// nesting and ambiguous relations are refused with a 400 problem naming them; writes do
/// not embed. Building the router (`router()`) panics when `embed(...)` names a model that
/// no reference relates to this one, or one that exposes neither list nor retrieve.
///
/// Many-to-many: `embed(Tag(through = PostTag))` on posts embeds tags through the rows of
/// `PostTag`, a model with a reference to each (checked at compile time: `PostTag` is
/// exposed and has `references = Post` and `references = Tag` fields, whose types are the
/// keys'): `GET /posts?select=title,tags(name)` (an array), and the other way if `Tag`
/// declares `embed(Post(through = PostTag))`. Everything above applies, `!inner`,
/// `is.null`, nesting and per-parent order and limits included; `tags!post_tags(name)`
/// names the join model when another relation has the same name. The join rows are read
/// as the caller would read the join model directly, under its list's (else retrieve's)
/// `where`, `scope` and `pre` hooks (a link the caller cannot read links nothing), and both
/// reference fields must be readable to the caller (else 400); a join model with `post`
/// hooks cannot be used (400). Each level is still one statement, the embedded rows joined
/// to the join rows.
///
/// ```
/// use expose_runtime::expose;
///
/// #[expose(as = "users", list(embed(Post)), retrieve(embed(Post)))]
/// pub struct User {
///     #[expose(id, generated)]
///     pub id: i64,
///     pub name: String,
/// }
///
/// #[expose(as = "posts", list(embed(User), embed_rows = 20), retrieve(embed(User)))]
/// pub struct Post {
///     #[expose(id, generated)]
///     pub id: i64,
///     #[expose(references = User)]
///     pub owner_id: i64,
///     pub title: String,
/// }
/// ```
///
/// # Validation
///
/// A field's `validate(...)` lists rules in the vocabulary of the `validator` and `garde`
/// crates. Every write body (create, each row of a bulk create or upsert, update, replace,
/// an update chosen by filters) is checked against them while it is read, before any SQL:
/// a value that breaks a rule is a 422 `application/problem+json` that lists every
/// offending field at once (`[2].email` for row 2 of a bulk body), each with the `rule` it
/// broke and a `detail`. `null` in an `Option` field passes every rule. The OpenAPI document
/// states the same rules in the write bodies' schemas.
///
/// | rule | applies to | passes when | OpenAPI |
/// |---|---|---|---|
/// | `length(min = 1, max = 100)` (either bound or both) | `String` | the string has that many characters (Unicode scalar values) | `minLength`, `maxLength` |
/// | `non_empty` | `String` | the string is not `""` | `minLength: 1` |
/// | `range(min = 0, max = 150)` (either bound or both, inclusive) | integers (whole-number bounds), `f32`, `f64` | the number is within | `minimum`, `maximum` |
/// | `email` | `String` | an e-mail address as HTML's `type=email` takes it: `local@domain.example` | `format: email` |
/// | `url` | `String` | an absolute URI with a scheme, like `https://example.com/a` | `format: uri` |
/// | `pattern = "^[a-z]+$"` (or `pattern("...")`) | `String` | the regular expression (`regex` crate syntax) matches; unanchored, as in JSON Schema | `pattern` |
/// | `one_of("a", "b")` / `one_of(1, 2)` | `String` / integers | the value is one of these | `enum` |
///
/// A rule on a type it does not fit (`email` on an `i32`, `range` on a `String`), bounds that
/// do not fit the type or each other, an invalid pattern, an unknown or repeated rule, and
/// rules on a `generated` or `version` field do not compile.
///
/// For rules across fields, `validate = path::to_fn` on the struct names a function that sees
/// a row's [`Input`] (typed through `Model::FIELDS`, as in hooks: for an update, only the
/// fields it sends) and returns [`FieldErrors`], which join those of the fields' rules in
/// the same 422. It runs once every member of the row has its field's type.
///
/// ```
/// use expose_runtime::{expose, FieldErrors, Input};
///
/// #[expose(as = "members", validate = adults_have_email, create, update, replace)]
/// pub struct Member {
///     #[expose(id, generated)]
///     pub id: i64,
///     #[expose(validate(length(min = 1, max = 100)))]
///     pub name: String,
///     #[expose(validate(email))]
///     pub email: Option<String>,
///     #[expose(validate(url))]
///     pub homepage: Option<String>,
///     #[expose(validate(range(min = 0, max = 150)))]
///     pub age: i32,
///     #[expose(validate(pattern = "^[a-z0-9_]{3,20}$"))]
///     pub handle: String,
///     #[expose(validate(one_of("basic", "premium")))]
///     pub plan: String,
///     #[expose(validate(non_empty, length(max = 2000)))]
///     pub bio: Option<String>,
/// }
///
/// /// A member of 18 or more gives an e-mail address.
/// fn adults_have_email(input: &Input) -> Result<(), FieldErrors> {
///     match (input.get(Member::FIELDS.age), input.get(Member::FIELDS.email)) {
///         (Some(&age), Some(None) | None) if age >= 18 => Err(FieldErrors::one(
///             Member::FIELDS.email,
///             "required_for_adults",
///             "is required from age 18",
///         )),
///         _ => Ok(()),
///     }
/// }
/// ```
///
/// ```compile_fail
/// # use expose_runtime::expose;
/// // error: `email` applies to String fields, and `age` is `i32`; bound a number with range(min = ..., max = ...)
/// #[expose(as = "people", create)]
/// pub struct Person { pub id: i64, #[expose(validate(email))] pub age: i32 }
/// ```
///
/// ```compile_fail
/// # use expose_runtime::expose;
/// // error: invalid pattern: unclosed group
/// #[expose(as = "people", create)]
/// pub struct Person { pub id: i64, #[expose(validate(pattern = "^(a"))] pub name: String }
/// ```
///
/// Database constraints are the last line: a duplicate key or unique value (409), a
/// reference to a missing row, a value too long or out of range for its column, or a
/// `CHECK` (422) names the field its column belongs to where the backend's error says
/// which, and says that no single field is to blame where it cannot.
///
/// # Field types
///
/// `i16`, `i32`, `i64`, `f32`, `f64`, `bool`, `String`, `chrono::DateTime<chrono::Utc>`,
/// `chrono::NaiveDate`, `uuid::Uuid`, `serde_json::Value`, `rust_decimal::Decimal`, enums
/// with [`#[derive(Enum)]`](Enum), and `Option` of each (a nullable column). The set is the
/// implementations of [`FieldKind`].
///
/// A `Decimal` is exact end to end: read from a JSON number (its text, never an `f64`) or a
/// string, answered as a JSON number with every digit (`12345678901234567890.12`), and
/// compared and sorted as a number (`?price=gte.9.99`, `order=price.desc`). Its column is
/// `NUMERIC`/`DECIMAL` on PostgreSQL and MySQL, and `TEXT` on SQLite (SQLite's `NUMERIC`
/// and `REAL` keep 15 digits), where the `expose_decimal` collation compares it
/// ([`sqlite_collation`]).
///
/// A filter on a date-time field also takes a date alone, as midnight UTC:
/// `?created_at=gte.2024-01-31` is `?created_at=gte.2024-01-31T00:00:00Z`.
///
/// # Errors
///
/// Every mistake fails to compile with a message at the token to fix, and all of them are
/// reported in one build. The struct itself is still emitted (with an empty model), so a
/// mistake in the attribute does not cascade into errors where the struct is used. The
/// `tests/ui/fail` directory of the repository holds one case per mistake with rustc's exact
/// output. The messages read:
///
/// | mistake | message (at) |
/// |---|---|
/// | unknown option | ``unknown operation option `fitler`; did you mean `filter`?`` (the key) |
/// | option given twice | ``duplicate expose option `limit`; give it once`` (the second) |
/// | a name that is not a field | ``` `nmae` is not a field of this struct; did you mean `name`?``` (the string) |
/// | included and excluded | ``` `name` is listed both included and excluded; keep one``` |
/// | a generated or version field listed as writable | ``` `created_at` is generated by the database and cannot be written; remove it from `create` fields``` |
/// | filter or sort on a hidden field | ``` `password` is not readable in `list`, so it cannot be filtered on; add it to `fields` or remove it here``` |
/// | operator the type does not support | ``operator `like` is not supported by `age` of type `i32`: like and ilike apply to String fields only`` |
/// | zero or inconsistent limits | ``` `limit` must be at least 1``` (also `max_rows`, `max_affected`), ``default `limit` 500 is above `max_limit` 100; raise `max_limit` or lower `limit` `` |
/// | option on an operation it does not apply to | ``` `sort` applies to `list` only, not `retrieve` ```, ``` `max_affected` applies to update and remove, not `create` ``` |
/// | a collection write filtering on a hidden field | ``` `password` is not readable (neither `list` nor `retrieve` returns it), so it cannot be filtered on in `update`; add it to the `fields` of `list` or `retrieve`, or remove it here``` |
/// | `unique` on the key | ``` `id` is the key, which is already unique; remove `unique` ``` (`unique`) |
/// | `upsert` without `update` | ``` `upsert` may merge a request into an existing row, which is an update: expose `update` too``` (`upsert`) |
/// | `upsert` with nothing to conflict on | ``` `upsert` has nothing to conflict on: the key `id` is generated and no field is unique; mark a field #[expose(unique)]``` (`upsert`) |
/// | a key create can neither generate nor take | ``create can neither generate the key `id` nor take it from the client: mark it #[expose(id, generated)] ...`` (`create`) |
/// | `generate` on a field that is not the key, or with `generated` | ``` `generate` makes a new key in Rust, and `isbn` is not the key; ...``` (the function's path) |
/// | no key, two keys | ``#[expose] needs a primary key: mark one field with #[expose(id)] (or name it `id`)``, ``a model has exactly one primary key; ...`` |
/// | missing or mistyped function | rustc's ``cannot find function `check_admin` `` or ``mismatched types`` (the path) |
/// | unknown rule, rule on a type it does not fit | ``unknown validation rule `lenght`; did you mean `length`?``, ``` `range` applies to number fields (i16, i32, i64, f32, f64), and `name` is `String`; ...``` (the rule) |
/// | bounds that do not fit, invalid pattern | ``40000 does not fit `age` of type `i16` (from -32768 to 32767)``, ``invalid pattern: unclosed group`` (the value) |
/// | unsupported field type | `` `Vec<String>` is not a supported #[expose] field type`` (the type) |
/// | enum, union, tuple struct, generics | ``#[expose] applies to structs with named fields, not enums`` |
///
/// ```compile_fail
/// # use expose_runtime::expose;
/// // error: unknown operation option `fitler`; did you mean `filter`?
/// #[expose(as = "people", list(fitler = "name"))]
/// pub struct Person { pub id: i64, pub name: String }
/// ```
///
/// ```compile_fail
/// # use expose_runtime::expose;
/// // error: `password` is not readable in `list`, so it cannot be sorted on; ...
/// #[expose(as = "people", all(fields = "-password"), list(sort = "password"))]
/// pub struct Person { pub id: i64, pub password: String }
/// ```
///
/// ```compile_fail
/// # use expose_runtime::expose;
/// // error: `created_at` is generated by the database and cannot be written; ...
/// #[expose(as = "people", create(fields = "name,created_at"))]
/// pub struct Person {
///     pub id: i64,
///     pub name: String,
///     #[expose(generated)]
///     pub created_at: chrono::DateTime<chrono::Utc>,
/// }
/// ```
///
/// ```compile_fail,E0308
/// # use expose_runtime::{expose, Cond, HookCtx};
/// // error[E0308]: mismatched types (at `mine`): expected
/// // `fn(&HookCtx) -> Result<_, Problem>`
/// fn mine(_: &HookCtx) -> Option<Cond<Post>> { None }
///
/// #[expose(as = "posts", list(scope = mine))]
/// pub struct Post { pub id: i64 }
/// ```
///
/// ```compile_fail,E0277
/// # use expose_runtime::expose;
/// // error[E0277]: `Vec<NaiveDate>` is not a supported #[expose] field type (at `Vec<...>`)
/// #[expose(as = "people", list)]
/// pub struct Person { pub id: i64, pub days: Vec<chrono::NaiveDate> }
/// ```
///
/// Arrays (`Vec<String>`, `Vec<i32>`, `Vec<i64>`, `Vec<f64>`, `Vec<bool>`) and JSON take
/// containment in `where` (`cs`, `cd`, `ov` with an array literal; `cs`, `cd` with a JSON
/// document); another operator on them, or containment on another type, does not compile:
///
/// ```
/// use expose_runtime::expose;
///
/// #[expose(as = "posts", list(where = "tags.cs.{published},meta.cd.{\"a\":1,\"b\":2}"))]
/// pub struct Post { pub id: i64, pub tags: Vec<String>, pub meta: serde_json::Value }
/// ```
///
/// ```compile_fail
/// # use expose_runtime::expose;
/// // error: operator `cs` is not supported by `title` of type `String`: cs, cd and ov apply
/// // to array (`Vec<T>`) fields, and `cs` and `cd` to JSON (`serde_json::Value`) fields, only
/// #[expose(as = "posts", list(where = "title.cs.{a}"))]
/// pub struct Post { pub id: i64, pub title: String }
/// ```
///
/// ```compile_fail
/// # use expose_runtime::expose;
/// // error: `upsert` may merge a request into an existing row, which is an update: expose `update` too
/// #[expose(as = "people", create(upsert))]
/// pub struct Person { pub id: i64, pub name: String }
/// ```
///
/// A key made in Rust, where the database has no default for it (a UUID on SQLite):
///
/// ```
/// use expose_runtime::expose;
///
/// #[expose(as = "books", retrieve, create(fields = "title"))]
/// pub struct Book {
///     #[expose(id, generate = uuid::Uuid::new_v4)]
///     pub id: uuid::Uuid,
///     pub title: String,
///     #[expose(default = "1")]
///     pub copies: i32,
/// }
/// let ddl = Book::MODEL.create_table(expose_runtime::Backend::Sqlite).unwrap();
/// assert!(ddl.contains(r#""id" BLOB NOT NULL PRIMARY KEY"#));
/// assert!(ddl.contains(r#""copies" INTEGER NOT NULL DEFAULT 1"#));
/// ```
///
/// ```compile_fail
/// # use expose_runtime::expose;
/// // error: create can neither generate the key `id` nor take it from the client: ...
/// #[expose(as = "books", create(fields = "title"))]
/// pub struct Book { #[expose(id)] pub id: uuid::Uuid, pub title: String }
/// ```
///
/// ```compile_fail
/// # use expose_runtime::expose;
/// // error: `id` is the key, which is already unique; remove `unique`
/// #[expose(as = "people", list)]
/// pub struct Person { #[expose(id, unique)] pub id: i64 }
/// ```
///
/// ```compile_fail
/// # use expose_runtime::expose;
/// // error: #[expose] needs a primary key: mark one field with #[expose(id)] (or name it `id`)
/// #[expose(as = "people", list)]
/// pub struct Person { pub person_id: i64 }
/// ```
pub use expose_macros::expose;

/// A Rust enum of unit variants as a model field stored as text (`TEXT`, `VARCHAR`, MySQL's
/// `ENUM`; not a PostgreSQL enum type, to which a text value does not cast: see the README).
///
/// The derive implements [`FieldKind`] with the variants' names (after
/// `#[serde(rename_all = "...")]` on the enum and `#[serde(rename = "...")]` on a variant,
/// so that JSON shows what serde would write) and `From<T> for Value`, so a scope or a hook
/// can compare the field with a variant. A request that writes another value is refused
/// with 422 naming the field and the allowed values; a filter value outside them is a 400
/// naming the parameter. Enum fields take `eq`, `neq`, `in` and `is.null`/`is.not_null`,
/// sort as text, and the OpenAPI schema lists the values as `enum`.
///
/// ```
/// use expose_runtime::{expose, FieldKind, FieldType};
///
/// #[derive(expose_runtime::Enum)]
/// #[serde(rename_all = "snake_case")]
/// pub enum Status {
///     Active,
///     OnLeave,
///     #[serde(rename = "gone")]
///     Retired,
/// }
///
/// #[expose(as = "staff", list(filter = "status"), retrieve, create)]
/// pub struct Staff {
///     #[expose(id, generated)]
///     pub id: i64,
///     pub status: Status,
///     pub previous: Option<Status>,
/// }
///
/// assert_eq!(Status::TYPE, FieldType::Enum(&["active", "on_leave", "gone"]));
/// assert_eq!(expose_runtime::Value::from(Status::OnLeave), "on_leave".into());
///
/// // A hook reads and sets the field as the enum.
/// async fn no_rehiring(ctx: &mut expose_runtime::HookCtx) -> Result<(), expose_runtime::Problem> {
///     let input = ctx.input_mut()?;
///     if let Some(Status::Retired) = input.get(Staff::FIELDS.status) {
///         input.set(Staff::FIELDS.status, Status::Active)?;
///     }
///     Ok(())
/// }
/// ```
///
/// Variants that carry data do not compile:
///
/// ```compile_fail
/// // error: variant `Late` carries data, which a text column cannot hold: ...
/// #[derive(expose_runtime::Enum)]
/// pub enum Status { Active, Late(u32) }
/// ```
pub use expose_macros::Enum;

/// Implemented by `#[expose]` for each exposed struct (and each further exposure's `view`
/// type): its static description.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an exposed model",
    label = "not a struct with #[expose(...)]",
    note = "`references = {Self}` and `embed({Self})` name a struct that has #[expose(...)]; for a table without a model, write the foreign key as text: references = \"table(column)\""
)]
pub trait Exposed {
    /// The type of the key field.
    type Key;
    /// The rows' type: the struct itself, or for a `view = AdminUsers` exposure the struct
    /// it is a view of.
    type Row;
    /// Fields, types and policies, as the attribute declared them.
    const MODEL: &'static model::Model;
}

/// The macro's check of `#[expose(references = User)] owner_id: K`: `User`'s key is a `K`.
#[doc(hidden)]
pub const fn same_key<T: Exposed<Key = K>, K>() {}

/// Implemented by `#[expose]` for a model with a field `#[expose(references = T)]`: what
/// `embed(Tag(through = PostTag))` checks of the join model, at compile time.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no reference to `{T}`, so it cannot join `{T}` many-to-many",
    label = "no field of this model references `{T}`",
    note = "a join model has a reference to each side: add #[expose(references = {T})] to the field of `{Self}` holding a `{T}`'s key"
)]
pub trait References<T> {}

/// The macro's check of `embed(T(through = J))` on `P`: `J` references both `P` and `T`
/// (whose key types its own `references` checked; that it is exposed, `embed` checks).
#[doc(hidden)]
pub const fn joins<P, T, J: References<P> + References<T>>() {}

#[doc(hidden)]
pub mod __private {
    pub use crate::config::RouterConfig;
    pub use crate::field::Field;
    pub use crate::field_type::{FieldKind, FieldType};
    pub use crate::hooks::{action_row, hook_future, InputValue};
    pub use crate::model::{
        Action, FieldsFn, Force, ForceFn, Hook, Model, ModelFn, Operation, Relation, ScopeFn,
        Through, ValidateFn,
    };
    pub use crate::router::router;
    pub use crate::rules::{Choice, Num, Rule};
    pub use crate::scope::{Col, Cond, FieldMask, IntoScope, Scope};
    pub use crate::validation::FieldErrors;
    pub use crate::Exposed;
    pub use crate::Input;
    pub use crate::{joins, same_key, References};
    pub use crate::{BoxFuture, Db, HookCtx, Problem, Value};
    pub use axum::extract::FromRef;
    pub use axum::Router;
    pub use core::option::Option::{self, None, Some};
    pub use core::result::Result::{self, Ok};
    pub use expose_core::grammar;
    pub use expose_core::OperationKind;
    pub use std::boxed::Box;
}

/// The layers of ARCHITECTURE.md, enforced: a module imports (outside its tests) only from
/// its own layer or below.
#[cfg(test)]
mod layers {
    /// Each module of the crate (its first path segment under `crate::`) and its layer.
    const LAYERS: &[(&str, u8)] = &[
        ("field_type", 1),
        ("value", 1),
        ("decimal", 1),
        ("field", 1),
        ("rules", 1),
        ("filter", 1),
        ("problem", 1),
        ("rfc3339", 1),
        ("conditional", 1),
        ("shutdown", 1),
        ("db", 2),
        ("column_types", 2),
        ("hooks", 3),
        ("scope", 3),
        ("validation", 3),
        ("model", 4),
        ("schema", 5),
        ("ddl", 5),
        ("verify", 5),
        ("query", 6),
        ("sql", 6),
        ("output", 6),
        ("body", 6),
        ("resource", 7),
        ("handlers", 8),
        ("config", 9),
        ("endpoint", 9),
        ("endpoints", 9),
        ("router", 9),
        ("openapi", 9),
        ("serve", 9),
    ];

    fn layer(module: &str) -> Option<u8> {
        LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
    }

    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn imports_go_down_the_layers() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut all = Vec::new();
        files(&src, &mut all);
        let mut wrong = Vec::new();
        for path in all {
            let rel = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let module = rel.split(['/', '.']).next().unwrap().to_owned();
            if module == "lib" {
                continue;
            }
            let own = layer(&module).unwrap_or_else(|| panic!("{rel}: add `{module}` to LAYERS"));
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let dep: String = line[i + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if let Some(l) = layer(&dep).filter(|l| *l > own) {
                        wrong.push(format!("{rel} (layer {own}) imports {dep} (layer {l})"));
                    }
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "imports that go up:\n{}",
            wrong.join("\n")
        );
    }
}
