//! Row scopes and per-request field narrowing, over typed handles on a model's fields.
//!
//! `#[expose]` gives each model a `FIELDS` constant with one [`Col`] per field, so a scope is
//! checked by the compiler: the field exists and the value has its type.
//!
//! ```
//! use expose_runtime::{expose, Cond, HookCtx, Problem};
//!
//! #[derive(Clone)]
//! struct CurrentUser { id: i64, admin: bool }
//!
//! #[expose(as = "posts", all(scope = visible_posts), list, retrieve)]
//! pub struct Post {
//!     pub id: i64,
//!     pub owner_id: i64,
//!     pub published: bool,
//! }
//!
//! /// Anyone sees published posts; authors also see their own drafts; admins see all.
//! fn visible_posts(ctx: &HookCtx) -> Result<Option<Cond<Post>>, Problem> {
//!     let published = Post::FIELDS.published.eq(true);
//!     Ok(match ctx.extension::<CurrentUser>() {
//!         Some(u) if u.admin => None,
//!         Some(u) => Some(published.or(Post::FIELDS.owner_id.eq(u.id))),
//!         None => Some(published),
//!     })
//! }
//! ```
//!
//! A scope says which rows a request may read and which it may write, as PostgreSQL's
//! row-level security does with `USING` and `WITH CHECK`:
//!
//! - **reads**: list (and its count) and retrieve see only rows in the scope; a row outside
//!   it is never listed and answers 404, as if it did not exist;
//! - **targets of writes**: update, replace and remove (one row, or rows chosen by filters)
//!   reach only rows the caller may both read and write; others answer 404;
//! - **new rows** (`WITH CHECK`): a create (single, bulk or upsert) whose new row, and an
//!   update or replace whose changed row, falls outside what the caller may write is
//!   refused with a 403 problem and nothing is written: the row is written in the
//!   operation's transaction, read back under the scope's conditions, and the transaction
//!   rolls back when it is not there (for a many-row write, when any one row is not).
//!
//! A function returning `Option<Cond<M>>` (as above) gives one condition for both; return a
//! [`Scope`] when what may be written differs from what may be read:
//!
//! ```
//! use expose_runtime::{expose, Cond, HookCtx, Problem, Scope};
//!
//! #[derive(Clone)]
//! struct Member { id: i64, staff: bool }
//!
//! #[expose(as = "loans", all(scope = own_loans), list, create, update)]
//! pub struct Loan {
//!     #[expose(id, generated)]
//!     pub id: i64,
//!     pub member_id: i64,
//!     pub shared: bool,
//! }
//!
//! /// Staff read and write every loan; members read their own and shared ones, and write
//! /// only their own.
//! fn own_loans(ctx: &HookCtx) -> Result<Scope<Loan>, Problem> {
//!     Ok(match ctx.extension::<Member>() {
//!         Some(m) if m.staff => Scope::all(),
//!         Some(m) => {
//!             let own = Loan::FIELDS.member_id.eq(m.id);
//!             Scope::reads(own.clone().or(Loan::FIELDS.shared.eq(true))).writes(own)
//!         }
//!         None => Scope::none(),
//!     })
//! }
//! ```
//!
//! A scope can be given to every operation at once (`all(scope = f)`) or per operation.
//! There is no raw-SQL escape hatch: conditions are built only from these handles, and every
//! value is a bound parameter.

use crate::field::FieldSet;
use crate::field_type::FieldType;
use crate::filter::{Cond as Condition, Filter, Operand};
use crate::value::Value;
use expose_core::grammar::{IsValue, Op};
use std::marker::PhantomData;

/// A typed handle on field `index` of model `M`, whose Rust type is `T`.
pub struct Col<M, T> {
    index: usize,
    ty: FieldType,
    nullable: bool,
    _marker: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Col<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, T> Copy for Col<M, T> {}

impl<M, T> std::fmt::Debug for Col<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Col({})", self.index)
    }
}

impl<M, T> Col<M, T> {
    /// The field's position in the model.
    pub(crate) fn index(self) -> usize {
        self.index
    }

    /// The field's type.
    pub(crate) fn ty(self) -> FieldType {
        self.ty
    }
}

impl<M: crate::Exposed, T> Col<M, T> {
    /// The handle on field `index`; the macro builds these. The type is read from the model
    /// (not from a `T: FieldKind` bound), so an unsupported field type is reported once.
    #[doc(hidden)]
    pub const fn new(index: usize) -> Col<M, T> {
        let field = &M::MODEL.fields[index];
        Col {
            index,
            ty: field.ty,
            nullable: field.nullable,
            _marker: PhantomData,
        }
    }
}

impl<M, T: Into<Value>> Col<M, T> {
    fn cond(self, op: Op, operand: Operand) -> Cond<M> {
        Cond::new(Filter::Cond(Condition {
            field: self.index,
            op,
            negated: false,
            operand,
        }))
    }

    fn one(self, v: impl Into<T>) -> Operand {
        let v: T = v.into();
        Operand::One(crate::value::coerce(v.into(), self.ty, true).unwrap_or(Value::Null(self.ty)))
    }

    /// `field = v`.
    pub fn eq(self, v: impl Into<T>) -> Cond<M> {
        let o = self.one(v);
        self.cond(Op::Eq, o)
    }

    /// `field <> v`.
    pub fn neq(self, v: impl Into<T>) -> Cond<M> {
        let o = self.one(v);
        self.cond(Op::Neq, o)
    }

    /// `field > v`.
    pub fn gt(self, v: impl Into<T>) -> Cond<M> {
        let o = self.one(v);
        self.cond(Op::Gt, o)
    }

    /// `field >= v`.
    pub fn gte(self, v: impl Into<T>) -> Cond<M> {
        let o = self.one(v);
        self.cond(Op::Gte, o)
    }

    /// `field < v`.
    pub fn lt(self, v: impl Into<T>) -> Cond<M> {
        let o = self.one(v);
        self.cond(Op::Lt, o)
    }

    /// `field <= v`.
    pub fn lte(self, v: impl Into<T>) -> Cond<M> {
        let o = self.one(v);
        self.cond(Op::Lte, o)
    }

    /// `field IN (...)`; an empty list matches nothing.
    pub fn is_in<V: Into<T>>(self, vs: impl IntoIterator<Item = V>) -> Cond<M> {
        let items = vs
            .into_iter()
            .map(|v| match self.one(v) {
                Operand::One(v) => v,
                _ => Value::Null(self.ty),
            })
            .collect();
        self.cond(Op::In, Operand::Many(items))
    }

    /// `field IS NULL`.
    pub fn is_null(self) -> Cond<M> {
        self.cond(Op::Is, Operand::Is(IsValue::Null))
    }

    /// `field IS NOT NULL`.
    pub fn is_not_null(self) -> Cond<M> {
        self.cond(Op::Is, Operand::Is(IsValue::NotNull))
    }

    /// Whether the field can hold `NULL`.
    pub fn nullable(self) -> bool {
        self.nullable
    }
}

/// A condition on the rows of model `M`.
pub struct Cond<M> {
    filter: Filter,
    _marker: PhantomData<fn() -> M>,
}

impl<M> Clone for Cond<M> {
    fn clone(&self) -> Self {
        Cond::new(self.filter.clone())
    }
}

impl<M> std::fmt::Debug for Cond<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.filter)
    }
}

impl<M> Cond<M> {
    fn new(filter: Filter) -> Cond<M> {
        Cond {
            filter,
            _marker: PhantomData,
        }
    }

    /// Both conditions.
    pub fn and(self, other: Cond<M>) -> Cond<M> {
        Cond::new(Filter::And(vec![self.filter, other.filter]))
    }

    /// Either condition.
    pub fn or(self, other: Cond<M>) -> Cond<M> {
        Cond::new(Filter::Or(vec![self.filter, other.filter]))
    }

    /// The negation (a `NULL` comparison stays unmatched, as in SQL).
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Cond<M> {
        Cond::new(Filter::Not(Box::new(self.filter)))
    }

    /// Matches every row.
    pub fn all() -> Cond<M> {
        Cond::new(Filter::And(Vec::new()))
    }

    /// Matches no row.
    pub fn none() -> Cond<M> {
        Cond::new(Filter::Or(Vec::new()))
    }

    /// Forgets the model type (the macro's glue stores scopes this way).
    #[doc(hidden)]
    pub fn erase(self) -> Cond<()> {
        Cond::new(self.filter)
    }

    pub(crate) fn into_filter(self) -> Filter {
        self.filter
    }
}

/// What a scope function returns: the rows a request may read, and the rows it may write
/// (see the [module documentation](self)). Unless [`writes`](Scope::writes) says otherwise,
/// they are the same.
pub struct Scope<M> {
    reads: Option<Filter>,
    /// `None`: as `reads`.
    writes: Option<Option<Filter>>,
    _marker: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for Scope<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("reads", &self.reads)
            .field("writes", &self.writes)
            .finish()
    }
}

impl<M> Scope<M> {
    fn of(reads: Option<Filter>, writes: Option<Option<Filter>>) -> Scope<M> {
        Scope {
            reads,
            writes,
            _marker: PhantomData,
        }
    }

    /// Every row may be read and written.
    pub fn all() -> Scope<M> {
        Scope::of(None, None)
    }

    /// No row may be read or written.
    pub fn none() -> Scope<M> {
        Scope::reads(Cond::none())
    }

    /// The rows matching `cond` may be read, and written (until [`writes`](Scope::writes)
    /// says otherwise).
    pub fn reads(cond: Cond<M>) -> Scope<M> {
        Scope::of(Some(cond.filter), None)
    }

    /// The rows that may be written: the targets of update, replace and remove (among the
    /// readable ones), and every row a create, update or replace leaves.
    pub fn writes(self, cond: Cond<M>) -> Scope<M> {
        Scope::of(self.reads, Some(Some(cond.filter)))
    }

    /// Any row may be written (what may be read is unchanged).
    pub fn writes_all(self) -> Scope<M> {
        Scope::of(self.reads, Some(None))
    }

    /// No row may be written: creates are refused (403), updates and removes find nothing
    /// (404).
    pub fn read_only(self) -> Scope<M> {
        self.writes(Cond::none())
    }

    /// Forgets the model type (the macro's glue stores scopes this way).
    #[doc(hidden)]
    pub fn erase(self) -> Scope<()> {
        Scope::of(self.reads, self.writes)
    }

    /// The condition of the rows that may be read (`None`: all).
    pub(crate) fn read_filter(&self) -> Option<&Filter> {
        self.reads.as_ref()
    }

    /// The condition of the rows that may be written (`None`: all).
    pub(crate) fn write_filter(&self) -> Option<&Filter> {
        match &self.writes {
            Some(w) => w.as_ref(),
            None => self.reads.as_ref(),
        }
    }

    /// Whether what may be written was given apart from what may be read.
    pub(crate) fn writes_apart(&self) -> bool {
        self.writes.is_some()
    }
}

/// What a scope function may return: an `Option<Cond<M>>` (`None`: every row; one condition
/// for reads and writes), a `Cond<M>`, or a [`Scope<M>`].
#[diagnostic::on_unimplemented(
    message = "a scope of `{M}` returns `Result<Option<Cond<{M}>>, Problem>` or `Result<Scope<{M}>, Problem>`, not `Result<{Self}, Problem>`",
    label = "return `Option<Cond<{M}>>` or `Scope<{M}>` (in a `Result<_, Problem>`)"
)]
pub trait IntoScope<M> {
    /// The scope.
    fn into_scope(self) -> Scope<M>;
}

impl<M> IntoScope<M> for Scope<M> {
    fn into_scope(self) -> Scope<M> {
        self
    }
}

impl<M> IntoScope<M> for Option<Cond<M>> {
    fn into_scope(self) -> Scope<M> {
        self.map_or_else(Scope::all, Scope::reads)
    }
}

impl<M> IntoScope<M> for Cond<M> {
    fn into_scope(self) -> Scope<M> {
        Scope::reads(self)
    }
}

/// The fields an operation may read or write for this request; a `fields_for` function may
/// only remove from it (it starts as the operation's policy).
pub struct FieldMask<M> {
    pub(crate) set: FieldSet,
    _marker: PhantomData<fn() -> M>,
}

impl<M> FieldMask<M> {
    fn new(set: FieldSet) -> FieldMask<M> {
        FieldMask {
            set,
            _marker: PhantomData,
        }
    }

    /// Removes a field for this request.
    pub fn remove<T>(&mut self, col: Col<M, T>) -> &mut Self {
        self.set.0 &= !(1u64 << col.index);
        self
    }

    /// Whether the field is in the mask.
    pub fn contains<T>(&self, col: Col<M, T>) -> bool {
        self.set.contains(col.index)
    }

    #[doc(hidden)]
    pub fn from_bits(bits: u64) -> FieldMask<M> {
        FieldMask::new(FieldSet(bits))
    }

    #[doc(hidden)]
    pub fn bits(&self) -> u64 {
        self.set.0
    }
}
