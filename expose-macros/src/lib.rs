//! The `#[expose]` attribute. Use it through `expose-runtime`, which re-exports it and
//! documents every option.
//!
//! The phases live in their own files: [`attr`] parses the attribute and the field
//! attributes into [`ast`], [`check`] validates them against the struct (collecting every
//! error in a [`ctxt::Ctxt`]), and [`expand`] writes the model description and the router.

use proc_macro::TokenStream;

mod ast;
mod attr;
mod check;
mod ctxt;
mod enum_derive;
mod expand;
#[cfg(test)]
mod tests;

/// Exposes a struct as a REST resource; see `expose_runtime::expose` for the reference.
#[proc_macro_attribute]
pub fn expose(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(args.into(), item.into()).into()
}

/// A Rust enum of unit variants as a field stored as text; see `expose_runtime::Enum`.
#[proc_macro_derive(Enum, attributes(serde))]
pub fn derive_enum(item: TokenStream) -> TokenStream {
    enum_derive::derive(item.into()).into()
}
