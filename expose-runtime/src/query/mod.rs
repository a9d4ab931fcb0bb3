//! The list query language: PostgREST's grammar ([`grammar`]), checked against a resource's
//! policy and typed by its fields (`plan`), and the request headers that shape a read
//! (`headers`).

pub mod grammar;
mod headers;
mod plan;

pub(crate) use headers::*;
pub(crate) use plan::*;
