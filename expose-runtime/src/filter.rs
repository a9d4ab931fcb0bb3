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
