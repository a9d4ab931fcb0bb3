//! Hooks: plain async functions named in the attribute that run before (`pre`) and after
//! (`post`) an operation, inside its database transaction (a list or retrieve begins one
//! only when a hook runs a statement: see [`HookCtx::in_transaction`]).
//!
//! A hook has this shape:
//!
//! ```
//! use expose_runtime::{HookCtx, Problem};
//!
//! #[derive(Clone)]
//! struct CurrentUser { id: i64, admin: bool }
//!
//! async fn require_admin(ctx: &mut HookCtx) -> Result<(), Problem> {
//!     match ctx.extension::<CurrentUser>() {
//!         Some(u) if u.admin => Ok(()),
//!         Some(_) => Err(Problem::forbidden("only admins may do this")),
//!         None => Err(Problem::unauthorized("sign in first")),
//!     }
//! }
//! ```
//!
//! and is named in the attribute per operation or for all of them, several per operation,
//! run in the order written (those of `all(...)` first):
//! `create(pre = [require_admin], post = [send_welcome])`.
//!
//! What a hook can do through [`HookCtx`]:
//! - read the request: [`method`](HookCtx::method), [`uri`](HookCtx::uri),
//!   [`headers`](HookCtx::headers), [`extension`](HookCtx::extension) (what an auth
//!   middleware put there), and the app's state ([`state`](HookCtx::state));
//! - see the [`operation`](HookCtx::operation), the [`key`](HookCtx::key) of the target row,
//!   the [`input`](HookCtx::input), the written [`row`](HookCtx::row), the row
//!   [`before`](HookCtx::before) the write and the [`output`](HookCtx::output), as the table
//!   below says;
//! - refuse the request by returning any [`Problem`];
//! - run SQL in the operation's transaction with [`execute`](HookCtx::execute), and read
//!   rows with [`fetch_one`](HookCtx::fetch_one), [`fetch_optional`](HookCtx::fetch_optional)
//!   and [`fetch_all`](HookCtx::fetch_all) (as a [`Row`](crate::Row), a tuple or any
//!   [`FromRow`](crate::FromRow)): when any hook fails, or the write fails, everything rolls
//!   back. Placeholders are `?` on every backend;
//! - [`lock`](HookCtx::lock) the row a check depends on, so that concurrent requests do not
//!   both pass it.
//!
//! What each hook sees (asking for something its place does not have is a 500 problem
//! naming the operation, logged, never a silent `None`):
//!
//! | hook | [`input`](HookCtx::input) | [`before`](HookCtx::before) | [`row`](HookCtx::row) | [`output`](HookCtx::output) | [`key`](HookCtx::key) |
//! |---|---|---|---|---|---|
//! | list `pre` | — | — | — | — | — |
//! | list `post` | — | — | — | the page (an array; [`output_mut`](HookCtx::output_mut) changes it) | — |
//! | retrieve `pre` / `post` | — | — | — | `post`: the object | the key |
//! | create `pre` | validated, changeable ([`input_mut`](HookCtx::input_mut)) | — | — | — | — |
//! | create `post` | as written | — | the new row, every field | the response | the new key |
//! | update, replace `pre` | validated, changeable | the row, locked | — | — | the key |
//! | update, replace `post` | as written | the row | the updated row, every field | the response | the key |
//! | remove `pre` / `post` | — | the row, locked | — | — | the key |
//!
//! - *input*: the values the write sets (the body's fields, the forced values), read and
//!   set through the model's typed field handles ([`Input`]);
//! - *before*: every field of the target row as it was, read with `SELECT ... FOR UPDATE`
//!   in the operation's transaction before the `pre` hooks run (a replace that inserts has
//!   none); *row*: every field of the row as the write left it, read back in the same
//!   transaction: what the client asked to `select` narrows only the response, so
//!   `POST /loans?select=id` still gives the `post` hook `book_id`. Both are a [`Record`],
//!   read by typed handle (`ctx.row()?.get(Loan::FIELDS.book_id)` is an `&i64`) or, where the
//!   model derives `Deserialize`, as the struct (`ctx.before()?.deserialize::<Loan>()?`);
//! - in a many-row write (bulk create, upsert, a `PATCH`/`DELETE` chosen by filters), the
//!   hooks run once per row and see that row's input, key and rows.
//!
//! An operation without hooks pays for none of this: the row before is read only when the
//! operation has hooks (or `If-Match`), the written row and a copy of the input only when it
//! has `post` hooks.
//!
//! A whole rule, typed through the model's field handles:
//!
//! ```
//! use expose_runtime::{expose, HookCtx, Problem};
//!
//! #[expose(as = "members", retrieve)]
//! pub struct Member { #[expose(id)] pub id: i64, pub name: String }
//!
//! #[expose(as = "loans", create(pre = [at_most_three]))]
//! pub struct Loan {
//!     #[expose(id, generated)]
//!     pub id: i64,
//!     pub member_id: i64,
//!     pub note: Option<String>,
//! }
//!
//! /// A member holds at most 3 loans, even when requests race; each loan gets a note.
//! async fn at_most_three(ctx: &mut HookCtx) -> Result<(), Problem> {
//!     let member: i64 = *ctx
//!         .input()?
//!         .get(Loan::FIELDS.member_id) // Option<&i64>
//!         .ok_or_else(|| Problem::internal(&"member_id is required"))?;
//!     if !ctx.lock(Member::FIELDS.id, member).await? {
//!         return Err(Problem::unprocessable("no such member", Vec::new()));
//!     }
//!     let (open,): (i64,) = ctx
//!         .fetch_one("SELECT COUNT(*) FROM loans WHERE member_id = ?", &[member.into()])
//!         .await?;
//!     if open >= 3 {
//!         return Err(Problem::conflict("a member may hold at most 3 loans"));
//!     }
//!     let note = format!("loan {} of 3", open + 1);
//!     ctx.input_mut()?.set(Loan::FIELDS.note, Some(note))?; // a String would not compile
//!     Ok(())
//! }
//! ```

use crate::db::{Backend, Db, FromRow, Row, Tx};
use crate::field::Field;
use crate::problem::Problem;
use crate::scope::Col;
use crate::value::Value;
use axum::http::{request::Parts, Extensions, HeaderMap, Method, Uri};
use std::any::Any;
use std::sync::Arc;

/// A boxed, sendable future: what the macro adapts every hook function to return.
pub use futures_core::future::BoxFuture;

/// What a hook function returns: the future of an `async fn(&mut HookCtx) -> Result<(),
/// Problem>`. The macro's glue boxes it through [`hook_future`], so that a hook written as a
/// plain `fn` is told to be an `async fn`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a hook must be an `async fn`: `{Self}` is not the future of one",
    label = "this hook is not an `async fn(&mut HookCtx) -> Result<(), Problem>`",
    note = "write it as `async fn name(ctx: &mut HookCtx) -> Result<(), Problem> {{ ... }}`"
)]
pub trait HookFuture<'a>: std::future::Future<Output = Result<(), Problem>> + Send + 'a {}

impl<'a, F: std::future::Future<Output = Result<(), Problem>> + Send + 'a> HookFuture<'a> for F {}

/// Boxes a hook's future (the macro's glue calls it).
#[doc(hidden)]
pub fn hook_future<'a>(future: impl HookFuture<'a>) -> BoxFuture<'a, Result<(), Problem>> {
    Box::pin(future)
}

pub use expose_core::OperationKind;

/// The field values a create or update writes.
///
/// Read and write them through the model's typed field handles (`Loan::FIELDS.member_id`),
/// which the compiler checks: [`get`](Input::get) gives `Option<&i64>` for an `i64` field
/// (`None`: the request does not write it), `Option<Option<&str>>` for an `Option<String>`
/// one (the inner `None`: it writes `NULL`), and [`set`](Input::set) takes only a value of
/// the field's type. The API name of a field (`input.get("member_id")`, a `&Value`) works
/// too, checked when the hook runs.
///
/// ```
/// use expose_runtime::{expose, HookCtx, Problem};
///
/// #[derive(Clone)]
/// struct Member { id: i64 }
///
/// #[expose(as = "loans", create(pre = [own_loan]))]
/// pub struct Loan {
///     #[expose(id, generated)]
///     pub id: i64,
///     pub book_id: i64,
///     pub member_id: i64,
///     pub note: Option<String>,
/// }
///
/// /// A member borrows for themself: `member_id` defaults to the caller and may not differ.
/// async fn own_loan(ctx: &mut HookCtx) -> Result<(), Problem> {
///     let me = ctx.extension::<Member>().ok_or_else(|| Problem::unauthorized("sign in"))?.id;
///     let input = ctx.input_mut()?;
///     match input.get(Loan::FIELDS.member_id) {
///         Some(&m) if m != me => return Err(Problem::forbidden("loans are for yourself")),
///         Some(_) => {}
///         None => input.set(Loan::FIELDS.member_id, me)?,
///     }
///     if input.get(Loan::FIELDS.note) == Some(None) {
///         input.set(Loan::FIELDS.note, Some("no note".to_owned()))?;
///     }
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Input {
    /// The model's name and fields, for lookups by name and messages.
    pub(crate) model: (&'static str, &'static [Field]),
    pub(crate) values: Vec<(usize, Value)>,
}

impl Input {
    /// The value of a field the request writes, by its typed handle (`Option<&T>`; for an
    /// `Option<T>` field, `Option<Option<&T>>`) or by its API name (`Option<&Value>`).
    ///
    /// # Panics
    ///
    /// When the handle is another model's field: a programming error, named with both
    /// models.
    pub fn get<K: InputKey>(&self, key: K) -> Option<K::Ref<'_>> {
        key.get(self)
    }

    /// Sets a field (any field of the model, writable by clients or not): by its typed handle
    /// with a value of its type (checked at compile time), or by API name with any value
    /// converting to the field's type (checked when the hook runs: an unknown field or a value
    /// of another type is a programming error, answered 500 and logged).
    pub fn set<K: SetInput<V>, V>(&mut self, key: K, value: V) -> Result<(), Problem> {
        key.set(self, value)
    }

    /// Removes a field from what is written, by typed handle or API name.
    pub fn remove<K: InputKey>(&mut self, key: K) -> Option<Value> {
        let i = key.position(self)?;
        let pos = self.values.iter().position(|(j, _)| *j == i)?;
        Some(self.values.remove(pos).1)
    }

    /// The API names of the fields written, in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.values.iter().map(|(i, _)| self.model.1[*i].name)
    }

    fn value(&self, i: usize) -> Option<&Value> {
        self.values.iter().find(|(j, _)| *j == i).map(|(_, v)| v)
    }

    fn put(&mut self, i: usize, value: Value) -> Result<(), Problem> {
        let f = &self.model.1[i];
        let v = crate::value::coerce(value, f.ty, f.nullable).ok_or_else(|| {
            Problem::internal(&format!(
                "a hook set `{}` of {} to a value of another type",
                f.name, self.model.0
            ))
        })?;
        match self.values.iter_mut().find(|(j, _)| *j == i) {
            Some(slot) => slot.1 = v,
            None => self.values.push((i, v)),
        }
        Ok(())
    }

    /// The position of `col`'s field, checked to be this model's.
    fn field_of<M: crate::Exposed, T>(&self, col: Col<M, T>) -> usize {
        let (name, fields) = self.model;
        let i = col.index();
        let theirs = &M::MODEL.fields[i];
        assert!(
            M::MODEL.rust_name == name && fields.get(i).is_some_and(|f| f.name == theirs.name),
            "a hook used the field handle `{}::FIELDS.{}` on the input of {name}",
            M::MODEL.rust_name,
            theirs.ident,
        );
        i
    }
}

/// A whole row of the model, every field (whatever the client asked to `select`): the row
/// a create or update wrote ([`HookCtx::row`]), or the row as it was before an update or
/// remove ([`HookCtx::before`]).
///
/// Read a field through its typed handle (`row.get(Loan::FIELDS.book_id)` is an `&i64`; for
/// an `Option<T>` field, an `Option<&T>`), by API name ([`value`](Record::value)), or take
/// the whole row as the model struct when it derives `Deserialize`
/// ([`deserialize`](Record::deserialize)).
#[derive(Debug, Clone)]
pub struct Record {
    fields: Input,
}

impl Record {
    /// A row of every field of the model, in field order.
    pub(crate) fn new(model: (&'static str, &'static [Field]), values: Vec<Value>) -> Record {
        Record {
            fields: Input {
                model,
                values: values.into_iter().enumerate().collect(),
            },
        }
    }

    /// A field's value by its typed handle: `&T` (`&str` for a `String`), `Option<&T>` for
    /// an `Option<T>` field.
    ///
    /// # Panics
    ///
    /// When the handle is another model's field: a programming error, named with both
    /// models.
    pub fn get<M: crate::Exposed, T: InputValue>(&self, col: Col<M, T>) -> T::Ref<'_> {
        InputKey::get(col, &self.fields)
            .unwrap_or_else(|| panic!("a row of {} lacks a field", self.fields.model.0))
    }

    /// A field's value by its API name.
    pub fn value(&self, name: &str) -> Option<&Value> {
        InputKey::get(name, &self.fields)
    }

    /// The row as a JSON object keyed by the fields' API names (as the response shows
    /// them; date-times as RFC 3339 text).
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let fields = self.fields.model.1;
        self.fields
            .values
            .iter()
            .map(|(i, v)| (fields[*i].name.to_owned(), crate::db::json_of(v)))
            .collect()
    }

    /// The row as a `T: Deserialize`, usually the model struct itself, keyed by the Rust
    /// field names (serde's default); a mismatch is a 500 problem naming `T`, logged.
    ///
    /// ```
    /// use expose_runtime::{expose, HookCtx, Problem};
    ///
    /// #[expose(as = "loans", create(post = [log_loan]))]
    /// #[derive(serde::Deserialize)]
    /// pub struct Loan {
    ///     #[expose(id, generated)]
    ///     pub id: i64,
    ///     pub book_id: i64,
    /// }
    ///
    /// async fn log_loan(ctx: &mut HookCtx) -> Result<(), Problem> {
    ///     let loan: Loan = ctx.row()?.deserialize()?;
    ///     assert_eq!(loan.book_id, *ctx.row()?.get(Loan::FIELDS.book_id));
    ///     Ok(())
    /// }
    /// ```
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<T, Problem> {
        let fields = self.fields.model.1;
        let object = self
            .fields
            .values
            .iter()
            .map(|(i, v)| (fields[*i].ident.to_owned(), crate::db::json_of(v)))
            .collect();
        serde_json::from_value(serde_json::Value::Object(object)).map_err(|e| {
            Problem::internal(&format!(
                "a row of {} does not read as {}: {e}",
                self.fields.model.0,
                std::any::type_name::<T>()
            ))
        })
    }
}

/// How [`Input::get`] and [`Input::remove`] name a field: a typed handle
/// (`Loan::FIELDS.member_id`) or an API name (`"member_id"`).
pub trait InputKey {
    /// What `get` returns for a field written.
    type Ref<'a>;
    /// The field's position, if the model has it.
    #[doc(hidden)]
    fn position(&self, input: &Input) -> Option<usize>;
    /// The field's value.
    #[doc(hidden)]
    fn get(self, input: &Input) -> Option<Self::Ref<'_>>;
}

impl InputKey for &str {
    type Ref<'a> = &'a Value;
    fn position(&self, input: &Input) -> Option<usize> {
        input.model.1.iter().position(|f| f.name == *self)
    }
    fn get(self, input: &Input) -> Option<&Value> {
        input.value(self.position(input)?)
    }
}

impl<M: crate::Exposed, T: InputValue> InputKey for Col<M, T> {
    type Ref<'a> = T::Ref<'a>;
    fn position(&self, input: &Input) -> Option<usize> {
        Some(input.field_of(*self))
    }
    fn get(self, input: &Input) -> Option<T::Ref<'_>> {
        let v = input.value(input.field_of(self))?;
        Some(T::read(v).unwrap_or_else(|| {
            panic!(
                "the input's `{}` holds {v:?}, not a {:?}",
                M::MODEL.fields[self.index()].name,
                self.ty()
            )
        }))
    }
}

/// How [`Input::set`] names a field and what it accepts: a typed handle takes a value of
/// the field's Rust type (or one converting into it with `Into`), an API name any value
/// converting into [`Value`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be set to a `{V}`",
    label = "set a field with a value of its type"
)]
pub trait SetInput<V> {
    /// Sets the field.
    #[doc(hidden)]
    fn set(self, input: &mut Input, value: V) -> Result<(), Problem>;
}

impl<V: Into<Value>> SetInput<V> for &str {
    fn set(self, input: &mut Input, value: V) -> Result<(), Problem> {
        let Some(i) = self.position(input) else {
            return Err(Problem::internal(&format!(
                "a hook set unknown field `{self}` of {}",
                input.model.0
            )));
        };
        input.put(i, value.into())
    }
}

impl<M: crate::Exposed, T: Into<Value>, V: Into<T>> SetInput<V> for Col<M, T> {
    fn set(self, input: &mut Input, value: V) -> Result<(), Problem> {
        let i = input.field_of(self);
        input.put(i, value.into().into())
    }
}

/// A field's Rust type as [`Input::get`] reads it: `&T` (`&str` for `String`), and for an
/// `Option<T>` field `Option<&T>` (`None`: `NULL`).
pub trait InputValue {
    /// The borrowed form.
    type Ref<'a>;
    /// The value as `Self`, when it has `Self`'s type.
    #[doc(hidden)]
    fn read(v: &Value) -> Option<Self::Ref<'_>>;
}

impl<T: InputValue> InputValue for Option<T> {
    type Ref<'a> = Option<T::Ref<'a>>;
    fn read(v: &Value) -> Option<Self::Ref<'_>> {
        match v {
            Value::Null(_) => Some(None),
            v => T::read(v).map(Some),
        }
    }
}

impl InputValue for String {
    type Ref<'a> = &'a str;
    fn read(v: &Value) -> Option<&str> {
        match v {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl InputValue for serde_json::Value {
    type Ref<'a> = &'a serde_json::Value;
    fn read(v: &Value) -> Option<&serde_json::Value> {
        match v {
            Value::Json(j) => Some(j),
            _ => None,
        }
    }
}

/// A typed JSON field, read as its `T` (deserialized from the document; `None` when it
/// does not read as one).
impl<T: serde::de::DeserializeOwned> InputValue for sqlx::types::Json<T> {
    type Ref<'a> = T;
    fn read(v: &Value) -> Option<T> {
        match v {
            Value::Json(j) => T::deserialize(&**j).ok(),
            _ => None,
        }
    }
}

/// An array field, read as a slice of its items.
macro_rules! input_arrays {
    ($($t:ty => $v:ident),*) => {$(
        impl InputValue for Vec<$t> {
            type Ref<'a> = &'a [$t];
            fn read(v: &Value) -> Option<&[$t]> {
                match v {
                    Value::Array(a) => match &**a {
                        crate::value::Array::$v(x) => Some(x),
                        _ => None,
                    },
                    _ => None,
                }
            }
        }
    )*};
}

input_arrays!(String => Text, i32 => I32, i64 => I64, f64 => F64, bool => Bool);

macro_rules! input_values {
    ($($t:ty => $v:ident),*) => {$(
        impl InputValue for $t {
            type Ref<'a> = &'a $t;
            fn read(v: &Value) -> Option<&$t> {
                match v {
                    Value::$v(x) => Some(x),
                    _ => None,
                }
            }
        }
    )*};
}

input_values!(
    i16 => I16,
    i32 => I32,
    i64 => I64,
    f32 => F32,
    f64 => F64,
    bool => Bool,
    chrono::DateTime<chrono::Utc> => DateTime,
    chrono::NaiveDate => Date,
    uuid::Uuid => Uuid,
    rust_decimal::Decimal => Decimal
);

/// `S` is the state `T` a model's hooks read: `#[expose(state = T, ...)]` bounds the
/// model's `router()` with `S: StateIs<T>`, so that serving it with another state is a
/// compile error naming both types, rather than a hook failing on every request.
///
/// ```compile_fail,E0277
/// use expose_runtime::{expose, Db};
///
/// #[derive(Clone)]
/// struct Library { db: Db }
///
/// impl axum::extract::FromRef<Library> for Db {
///     fn from_ref(l: &Library) -> Db { l.db.clone() }
/// }
///
/// #[expose(as = "books", state = Library, list)]
/// pub struct Book { pub id: i64 }
///
/// fn app(db: Db) -> axum::Router {
///     // error: the hooks of this model read the state as `Library`, but the router is
///     // served with a state of type `Db`
///     axum::Router::new().merge(Book::router()).with_state(db)
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "the hooks of this model read the state as `{T}` (`state = ...` in `#[expose]`), but the router is served with a state of type `{Self}`",
    label = "served with `{Self}`",
    note = "serve the router `.with_state(...)` with a `{T}`, or name the router's state in `state = ...`"
)]
pub trait StateIs<T> {}

impl<T> StateIs<T> for T {}

/// What a hook sees of the request, and may change of the operation.
pub struct HookCtx {
    pub(crate) op: OperationKind,
    pub(crate) parts: Parts,
    pub(crate) key: Option<Value>,
    pub(crate) input: Option<Input>,
    pub(crate) output: Option<serde_json::Value>,
    pub(crate) before: Option<Record>,
    pub(crate) row: Option<Record>,
    /// The router's state, and its type's name (for messages).
    pub(crate) state: (Arc<dyn Any + Send + Sync>, &'static str),
    pub(crate) db: Db,
    pub(crate) tx: Option<Tx>,
    /// A read's hooks: no transaction until a hook runs a statement, which begins one.
    pub(crate) lazy_tx: bool,
    /// The path of the resource read when this model's rows are embedded in its answer.
    pub(crate) embedded_in: Option<&'static str>,
}

impl HookCtx {
    /// The operation running.
    pub fn operation(&self) -> OperationKind {
        self.op
    }

    /// When this model's rows are embedded in another resource's answer
    /// (`GET /posts?select=title,users(name)`), that resource's path (`Some("posts")`); else
    /// `None`. An embedded model's list `pre` hooks run once per request, before any
    /// statement, with this set (the operation is [`OperationKind::List`]); its scope and
    /// `fields_for` see it too. A hook that refuses refuses the whole request.
    ///
    /// ```
    /// use expose_runtime::{HookCtx, Problem};
    ///
    /// /// Only admins page through `/users`; anyone may see the names embedded in posts
    /// /// (the list's `fields` and `fields_for` still bound what an embed shows).
    /// async fn admins_or_embedded(ctx: &mut HookCtx) -> Result<(), Problem> {
    ///     match ctx.embedded_in() {
    ///         Some("posts") => Ok(()),
    ///         _ => Err(Problem::forbidden("only admins may list users")),
    ///     }
    /// }
    /// ```
    pub fn embedded_in(&self) -> Option<&str> {
        self.embedded_in
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.parts.method
    }

    /// The request URI (path and query).
    pub fn uri(&self) -> &Uri {
        &self.parts.uri
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// The request extensions (where middleware puts the current user, for example).
    pub fn extensions(&self) -> &Extensions {
        &self.parts.extensions
    }

    /// One request extension by type.
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.parts.extensions.get::<T>()
    }

    /// The application's state, when `S` is exactly the state type the router was given
    /// (`Router::with_state(s)`; for a router given a bare `Db`, `Db`): the state is found by
    /// its type, not converted with `FromRef`. Any other `S` (a part of the state, a
    /// reference, a wrapper) is a mistake that would repeat on every request, so it is a 500
    /// problem naming both types, logged (never a silent `None`).
    ///
    /// ```
    /// use expose_runtime::{HookCtx, Problem};
    ///
    /// #[derive(Clone)]
    /// struct AppState { greeting: &'static str }
    ///
    /// async fn greet(ctx: &mut HookCtx) -> Result<(), Problem> {
    ///     let greeting = ctx.state::<AppState>()?.greeting;
    ///     # let _ = greeting;
    ///     Ok(())
    /// }
    /// ```
    pub fn state<S: Send + Sync + 'static>(&self) -> Result<&S, Problem> {
        let (state, given) = &self.state;
        state.downcast_ref::<S>().ok_or_else(|| {
            Problem::internal(&format!(
                "a hook asked for the state as `{}`, but the router was given a state of type \
                 `{given}`: ask for `{given}` (a part of it is not found by `FromRef`)",
                std::any::type_name::<S>()
            ))
        })
    }

    /// The same as [`HookCtx::state`] (its former name, when `state` gave an `Option`).
    pub fn require_state<S: Send + Sync + 'static>(&self) -> Result<&S, Problem> {
        self.state()
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The primary key of the target row (retrieve, update, remove; create's post hooks).
    pub fn key(&self) -> Option<&Value> {
        self.key.as_ref()
    }

    /// The validated input of create / update (and replace), in their `pre` hooks (where it
    /// may still be changed with [`input_mut`](HookCtx::input_mut)) and `post` hooks (as
    /// written); elsewhere a 500 problem (logged) naming the operation, so a hook in the
    /// wrong place fails loudly rather than doing nothing. See [`Input`] for typed access.
    pub fn input(&self) -> Result<&Input, Problem> {
        let op = self.op;
        self.input.as_ref().ok_or_else(|| no_input(op))
    }

    /// The input, to change in a `pre` hook (see [`HookCtx::input`]).
    pub fn input_mut(&mut self) -> Result<&mut Input, Problem> {
        let op = self.op;
        self.input.as_mut().ok_or_else(|| no_input(op))
    }

    /// The response body in `post` hooks: an object, or the array of a list page.
    pub fn output(&self) -> Option<&serde_json::Value> {
        self.output.as_ref()
    }

    /// The response body, to change in a `post` hook.
    pub fn output_mut(&mut self) -> Option<&mut serde_json::Value> {
        self.output.as_mut()
    }

    /// The row (every field) as it was before an update or remove, read and locked in the
    /// operation's transaction before its `pre` hooks run; seen by its `pre` and `post`
    /// hooks. Elsewhere a 500 problem (logged) naming the operation.
    pub fn before(&self) -> Result<&Record, Problem> {
        let op = self.op;
        self.before
            .as_ref()
            .ok_or_else(|| missing(op, "the row before the write", "update and remove"))
    }

    /// The row a create or update wrote, every field (what the client asked to `select`
    /// narrows only the response), read back in the operation's transaction; seen by `post`
    /// hooks. Elsewhere a 500 problem (logged) naming the operation.
    ///
    /// ```
    /// use expose_runtime::{expose, HookCtx, Problem};
    ///
    /// #[expose(as = "loans", create(post = [mark_on_loan]))]
    /// pub struct Loan {
    ///     #[expose(id, generated)]
    ///     pub id: i64,
    ///     pub book_id: i64,
    /// }
    ///
    /// /// The book is on loan, even when the client asked `?select=id`.
    /// async fn mark_on_loan(ctx: &mut HookCtx) -> Result<(), Problem> {
    ///     let book = *ctx.row()?.get(Loan::FIELDS.book_id);
    ///     ctx.execute("UPDATE books SET on_loan = ? WHERE id = ?", &[true.into(), book.into()])
    ///         .await?;
    ///     Ok(())
    /// }
    /// ```
    pub fn row(&self) -> Result<&Record, Problem> {
        let op = self.op;
        self.row
            .as_ref()
            .ok_or_else(|| missing(op, "the written row", "the post hooks of create and update"))
    }

    /// Runs a statement in the operation's transaction. Write placeholders as `?` on every
    /// backend (see [`Db::fetch_one`] for the rule); returns the number of rows affected.
    ///
    /// A failing statement fails the hook with the problem its error maps to (409 for a
    /// unique violation, 503 for contention, 500 otherwise, logged), and the operation's
    /// transaction rolls back.
    pub async fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, Problem> {
        self.begin_if_lazy().await?;
        let sql = self.placeholders(sql, args)?;
        use crate::db::Driver;
        match &mut self.tx {
            Some(Tx::Sqlite(tx)) => sqlx::Sqlite::execute(tx, &sql, args).await,
            Some(Tx::Postgres(tx)) => sqlx::Postgres::execute(tx, &sql, args).await,
            Some(Tx::MySql(tx)) => sqlx::MySql::execute(tx, &sql, args).await,
            None => return Err(no_tx()),
        }
        .map(|r| r.rows)
        .map_err(fail)
    }

    /// Runs a query in the operation's transaction and decodes its first row, as a [`Row`]
    /// (read by column name and type), a tuple, or any [`FromRow`]; no row is a 500.
    /// Placeholders are `?` on every backend (see [`Db::fetch_one`]).
    ///
    /// ```
    /// use expose_runtime::{HookCtx, Problem, Row, Value};
    ///
    /// /// A member may hold at most 3 unreturned loans.
    /// async fn at_most_three(ctx: &mut HookCtx) -> Result<(), Problem> {
    ///     let member: i64 = ctx.input()?.get("member_id").and_then(|v| match v {
    ///         Value::I64(m) => Some(*m),
    ///         _ => None,
    ///     }).ok_or_else(|| Problem::internal(&"no member"))?;
    ///     let row: Row = ctx
    ///         .fetch_one("SELECT COUNT(*) AS n FROM loans WHERE member_id = ? AND returned_at IS NULL", &[member.into()])
    ///         .await?;
    ///     if row.get::<i64>("n")? >= 3 {
    ///         return Err(Problem::conflict("a member may hold at most 3 open loans"));
    ///     }
    ///     Ok(())
    /// }
    /// ```
    ///
    /// Such a check races with concurrent writes unless what it reads is locked first: see
    /// [`HookCtx::lock`].
    pub async fn fetch_one<T: FromRow>(&mut self, sql: &str, args: &[Value]) -> Result<T, Problem> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or_else(|| fail(sqlx::Error::RowNotFound))
    }

    /// Runs a query in the operation's transaction and decodes its first row, if any (see
    /// [`HookCtx::fetch_one`]).
    pub async fn fetch_optional<T: FromRow>(
        &mut self,
        sql: &str,
        args: &[Value],
    ) -> Result<Option<T>, Problem> {
        self.begin_if_lazy().await?;
        let backend = self.db.backend();
        let row = match &mut self.tx {
            Some(Tx::Sqlite(tx)) => crate::db::first::<sqlx::Sqlite>(tx, backend, sql, args).await,
            Some(Tx::Postgres(tx)) => {
                crate::db::first::<sqlx::Postgres>(tx, backend, sql, args).await
            }
            Some(Tx::MySql(tx)) => crate::db::first::<sqlx::MySql>(tx, backend, sql, args).await,
            None => return Err(no_tx()),
        }
        .map_err(fail)?;
        Ok(row.map(T::from_row).transpose()?)
    }

    /// Runs a query in the operation's transaction and decodes every row (see
    /// [`HookCtx::fetch_one`]).
    ///
    /// ```
    /// use expose_runtime::{HookCtx, Problem};
    ///
    /// async fn titles(ctx: &mut HookCtx) -> Result<(), Problem> {
    ///     let books: Vec<(i64, String)> = ctx.fetch_all("SELECT id, title FROM books WHERE on_loan = ?", &[true.into()]).await?;
    ///     # let _ = books;
    ///     Ok(())
    /// }
    /// ```
    pub async fn fetch_all<T: FromRow>(
        &mut self,
        sql: &str,
        args: &[Value],
    ) -> Result<Vec<T>, Problem> {
        self.begin_if_lazy().await?;
        let backend = self.db.backend();
        let rows = match &mut self.tx {
            Some(Tx::Sqlite(tx)) => crate::db::all::<sqlx::Sqlite>(tx, backend, sql, args).await,
            Some(Tx::Postgres(tx)) => {
                crate::db::all::<sqlx::Postgres>(tx, backend, sql, args).await
            }
            Some(Tx::MySql(tx)) => crate::db::all::<sqlx::MySql>(tx, backend, sql, args).await,
            None => return Err(no_tx()),
        }
        .map_err(fail)?;
        Ok(rows
            .into_iter()
            .map(T::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Locks the row of `M` whose field `col` equals `value` (and every row it matches) until
    /// the operation's transaction ends, and returns whether there is one: the way to make a
    /// check that reads other rows race-free.
    ///
    /// On PostgreSQL and MySQL/MariaDB this is `SELECT 1 FROM <table> WHERE <column> = ? FOR
    /// UPDATE`: a concurrent request locking the same row waits for this transaction to
    /// commit or roll back, then sees what it wrote. On SQLite writes are already serialized
    /// (a write transaction takes the database's write lock when it begins), so it only checks
    /// that the row exists. `value` has the field's Rust type, checked at compile time.
    ///
    /// ```
    /// use expose_runtime::{expose, HookCtx, Problem, Row};
    ///
    /// #[expose(as = "members", retrieve)]
    /// pub struct Member { #[expose(id)] pub id: i64, pub name: String }
    ///
    /// #[expose(as = "loans", create(pre = [at_most_three]))]
    /// pub struct Loan {
    ///     #[expose(id, generated)]
    ///     pub id: i64,
    ///     pub member_id: i64,
    ///     pub returned_at: Option<chrono::DateTime<chrono::Utc>>,
    /// }
    ///
    /// async fn at_most_three(ctx: &mut HookCtx) -> Result<(), Problem> {
    ///     let member = *ctx.input()?.get(Loan::FIELDS.member_id).ok_or_else(|| Problem::internal(&"no member"))?;
    ///     // Concurrent loans of this member wait here until this one commits.
    ///     if !ctx.lock(Member::FIELDS.id, member).await? {
    ///         return Err(Problem::unprocessable("no such member", Vec::new()));
    ///     }
    ///     let (open,): (i64,) = ctx
    ///         .fetch_one("SELECT COUNT(*) FROM loans WHERE member_id = ? AND returned_at IS NULL", &[member.into()])
    ///         .await?;
    ///     if open >= 3 {
    ///         return Err(Problem::conflict("a member may hold at most 3 open loans"));
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub async fn lock<M: crate::Exposed, T: Into<Value>>(
        &mut self,
        col: Col<M, T>,
        value: impl Into<T>,
    ) -> Result<bool, Problem> {
        let field = &M::MODEL.fields[col.index()];
        let value = crate::value::coerce(value.into().into(), field.ty, field.nullable)
            .ok_or_else(|| {
                Problem::internal(&format!(
                    "a hook locked `{}` with a value of another type",
                    field.name
                ))
            })?;
        let q = match self.db.backend() {
            Backend::MySql => '`',
            _ => '"',
        };
        let for_update = match self.db.backend() {
            Backend::Sqlite => "",
            _ => " FOR UPDATE",
        };
        let sql = format!(
            "SELECT 1 FROM {q}{}{q} WHERE {q}{}{q} = ?{for_update}",
            M::MODEL.table,
            field.column
        );
        let found: Option<Row> = self.fetch_optional(&sql, &[value]).await?;
        Ok(found.is_some())
    }

    /// Whether the operation's transaction has begun. Writes run in one from the start; a
    /// list or retrieve with hooks begins one only when a hook runs its first statement
    /// (its query then runs in it too, and it commits after the `post` hooks), so that a
    /// hook that runs no SQL costs the read no `BEGIN` and `COMMIT`.
    pub fn in_transaction(&self) -> bool {
        self.tx.is_some()
    }

    /// Begins a read's transaction at a hook's first statement.
    async fn begin_if_lazy(&mut self) -> Result<(), Problem> {
        if self.tx.is_some() || !self.lazy_tx {
            return Ok(());
        }
        use crate::db::Driver;
        self.tx = Some(match &self.db {
            Db::Sqlite(p) => sqlx::Sqlite::wrap_tx(p.begin().await.map_err(fail)?),
            Db::Postgres(p) => sqlx::Postgres::wrap_tx(p.begin().await.map_err(fail)?),
            Db::MySql(p) => sqlx::MySql::wrap_tx(p.begin().await.map_err(fail)?),
        });
        Ok(())
    }

    fn placeholders<'s>(
        &self,
        sql: &'s str,
        args: &[Value],
    ) -> Result<std::borrow::Cow<'s, str>, Problem> {
        crate::db::placeholders(sql, self.db.backend(), args.len())
            .map_err(|e| Problem::internal(&e))
    }
}

fn fail(e: sqlx::Error) -> Problem {
    crate::db::error::map_for(None, e)
}

fn no_tx() -> Problem {
    Problem::internal(&"a hook ran SQL outside a transaction")
}

fn no_input(op: OperationKind) -> Problem {
    missing(op, "the input", "the hooks of create and update")
}

fn missing(op: OperationKind, what: &str, who: &str) -> Problem {
    Problem::internal(&format!(
        "a hook of {} asked for {what}, which only {who} see (see the table in `expose_runtime::hooks`)",
        op.name()
    ))
}

/// The row an action loaded, as the type its function takes: what the macro's adapter of
/// an action's function passes it (`#[expose(action(publish))]` calls `publish(row, ctx)`).
#[doc(hidden)]
pub fn action_row<T: ActionRow>(ctx: &HookCtx) -> Result<T, Problem> {
    ctx.before()?.deserialize()
}

/// What an action's function takes as its row: a type serde deserializes (the model's
/// struct with `#[derive(serde::Deserialize)]`, or a struct of some of its fields).
#[diagnostic::on_unimplemented(
    message = "an action's function takes the row as a type serde can deserialize; `{Self}` is not one",
    label = "the action passes the row it loaded to this function",
    note = "derive `serde::Deserialize` on `{Self}`: the function is `async fn publish(row: Post, ctx: &mut HookCtx) -> Result<(), Problem>`"
)]
pub trait ActionRow: serde::de::DeserializeOwned {}

impl<T: serde::de::DeserializeOwned> ActionRow for T {}
