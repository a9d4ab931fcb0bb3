//! The list query language: PostgREST's grammar ([`grammar`], which lives in `expose-core`
//! so that the `#[expose]` macro checks attributes with the same parser), checked against a
//! resource's policy and typed by its fields (`plan`), and the request headers that shape a
//! read (`headers`).

pub(crate) use expose_core::grammar;
mod embed;
mod headers;
mod plan;

pub(crate) use embed::{embeddable, embeddable_models, unjoined, unrelated, Access, EmbedPlan};
pub(crate) use headers::*;
pub(crate) use plan::*;
