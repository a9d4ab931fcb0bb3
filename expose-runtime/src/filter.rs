//! Typed row conditions, orders and output columns over field indices: what `where`,
//! scopes and a request's filters become once checked, and what the SQL writer reads.

use crate::value::Value;
use expose_core::grammar::{IsValue, Op};

/// A typed filter tree over field indices.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    Cond(Cond),
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    /// Whether a related row matches: `!inner` and `rel=is.null` on an embedded resource.
    Related(Box<Exists>),
}

/// `[NOT] EXISTS (SELECT 1 FROM child WHERE child.link = parent.link AND filters)`, over
/// the model at `target` of the router's related models (`Schema::related`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Exists {
    pub(crate) target: usize,
    pub(crate) link: Link,
    /// The child's conditions (its scope, `where` and the request's filters on it).
    pub(crate) filters: Vec<Filter>,
    pub(crate) negated: bool,
    /// A many-to-many relation: the child rows are those linked through a join row.
    pub(crate) via: Option<Via>,
}

/// A many-to-many relation's join rows: a parent row's children are the rows of the
/// embedded model whose key is the `child` field of a row of the join model (at `join` of
/// the router's related models) whose `parent` field is the parent's key, among the join
/// rows that meet `filters` (the join model's `where` and the caller's scope on it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Via {
    pub(crate) join: usize,
    pub(crate) parent: usize,
    pub(crate) child: usize,
    pub(crate) filters: Vec<Filter>,
}

/// How a parent row and its embedded rows match: `child` field of the embedded model equals
/// `parent` field of the parent; `many` for a to-many relation (an array), else to-one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Link {
    pub(crate) parent: usize,
    pub(crate) child: usize,
    pub(crate) many: bool,
}

/// One typed condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cond {
    pub(crate) field: usize,
    pub(crate) op: Op,
    pub(crate) negated: bool,
    pub(crate) operand: Operand,
}

/// A typed right-hand side.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    One(Value),
    Many(Vec<Value>),
    Is(IsValue),
}

/// One `ORDER BY` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OrderKey {
    pub(crate) field: usize,
    pub(crate) desc: bool,
    pub(crate) nulls_first: bool,
}

/// One output column, with the name it is written under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    pub(crate) field: usize,
    pub(crate) alias: Option<String>,
}
