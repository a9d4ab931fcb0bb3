//! `#[derive(Enum)]`: a Rust enum of unit variants as a field stored as text. It writes the
//! `FieldKind` implementation (the variants' names, so that the runtime checks values
//! against them), the conversion to a `Value` and the hooks' typed read of the input,
//! nothing else.

use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

/// Expands the derive; every mistake is a compile error at the token to fix.
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let cx = Ctxt::new();
    let ident = &input.ident;
    let syn::Data::Enum(data) = &input.data else {
        cx.error_spanned_by(
            ident,
            "#[derive(expose_runtime::Enum)] applies to enums of unit variants (a field stored as text), not structs or unions",
        );
        return finish(cx, TokenStream::new());
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "#[derive(expose_runtime::Enum)] does not take generic parameters: its values are a fixed set of names",
        );
    }
    if data.variants.is_empty() {
        cx.error_spanned_by(
            ident,
            "an enum with no variants has no value to store; add a variant",
        );
    }
    let rule = rename_all(&cx, &input.attrs);
    let mut names: Vec<String> = Vec::new();
    let mut arms = Vec::new();
    let mut back = Vec::new();
    for v in &data.variants {
        if !matches!(v.fields, syn::Fields::Unit) {
            cx.error_spanned_by(
                &v.fields,
                format!(
                    "variant `{}` carries data, which a text column cannot hold: #[derive(expose_runtime::Enum)] takes unit variants only (use a serde_json::Value field for data)",
                    v.ident
                ),
            );
            continue;
        }
        let name = rename(&cx, &v.attrs).unwrap_or_else(|| apply(&v.ident.to_string(), &rule));
        if names.contains(&name) {
            cx.error_spanned_by(
                &v.ident,
                format!("two variants are stored as `{name}`; rename one"),
            );
        }
        let vi = &v.ident;
        arms.push(quote!(#ident::#vi => #name));
        back.push(quote!(#name => ::core::option::Option::Some(#ident::#vi)));
        names.push(name);
    }
    let out = quote! {
        impl ::expose_runtime::__private::FieldKind for #ident {
            const TYPE: ::expose_runtime::__private::FieldType =
                ::expose_runtime::__private::FieldType::Enum(&[#(#names),*]);
        }
        impl ::core::convert::From<#ident> for ::expose_runtime::__private::Value {
            fn from(v: #ident) -> ::expose_runtime::__private::Value {
                ::expose_runtime::__private::Value::from(match v { #(#arms,)* })
            }
        }
        impl ::expose_runtime::__private::InputValue for #ident {
            type Ref<'a> = #ident;
            fn read(v: &::expose_runtime::__private::Value) -> ::core::option::Option<#ident> {
                match v {
                    ::expose_runtime::__private::Value::Text(t) => match t.as_str() {
                        #(#back,)*
                        _ => ::core::option::Option::None,
                    },
                    _ => ::core::option::Option::None,
                }
            }
        }
    };
    finish(cx, out)
}

fn finish(cx: Ctxt, out: TokenStream) -> TokenStream {
    match cx.check() {
        Ok(()) => out,
        Err(e) => e.to_compile_error(),
    }
}

/// `#[serde(rename_all = "...")]` on the enum (serde's rules for variants).
fn rename_all(cx: &Ctxt, attrs: &[syn::Attribute]) -> Option<String> {
    let mut out = None;
    serde_options(cx, attrs, |key, v| {
        if key == "rename_all" {
            const RULES: [&str; 8] = [
                "lowercase",
                "UPPERCASE",
                "PascalCase",
                "camelCase",
                "snake_case",
                "SCREAMING_SNAKE_CASE",
                "kebab-case",
                "SCREAMING-KEBAB-CASE",
            ];
            if RULES.contains(&v.value().as_str()) {
                out = Some(v.value());
            } else {
                cx.error_spanned_by(
                    v,
                    format!("unknown `rename_all` rule; use one of {}", RULES.join(", ")),
                );
            }
        }
    });
    out
}

/// `#[serde(rename = "...")]` on a variant.
fn rename(cx: &Ctxt, attrs: &[syn::Attribute]) -> Option<String> {
    let mut out = None;
    serde_options(cx, attrs, |key, v| {
        if key == "rename" {
            out = Some(v.value());
        }
    });
    out
}

/// Each `key = "string"` of the `#[serde(...)]` attributes; other options are skipped.
fn serde_options(cx: &Ctxt, attrs: &[syn::Attribute], mut f: impl FnMut(&str, &LitStr)) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let r = attr.parse_nested_meta(|meta| {
            if meta.input.peek(syn::Token![=]) {
                let value = meta.value()?;
                if value.peek(LitStr) {
                    let v: LitStr = value.parse()?;
                    if let Some(key) = meta.path.get_ident() {
                        f(&key.to_string(), &v);
                    }
                } else {
                    value.parse::<syn::Expr>()?;
                }
            } else if meta.input.peek(syn::token::Paren) {
                let content;
                syn::parenthesized!(content in meta.input);
                content.parse::<TokenStream>()?;
            }
            Ok(())
        });
        if let Err(e) = r {
            cx.syn_error(e);
        }
    }
}

/// serde's `rename_all` rules, applied to a PascalCase variant name.
fn apply(variant: &str, rule: &Option<String>) -> String {
    let mut snake = String::new();
    for (i, c) in variant.char_indices() {
        if c.is_uppercase() && i > 0 {
            snake.push('_');
        }
        snake.extend(c.to_lowercase());
    }
    match rule.as_deref() {
        Some("lowercase") => variant.to_ascii_lowercase(),
        Some("UPPERCASE") => variant.to_ascii_uppercase(),
        Some("camelCase") => {
            let mut c = variant.chars();
            c.next()
                .map(|f| f.to_lowercase().chain(c).collect())
                .unwrap_or_default()
        }
        Some("snake_case") => snake,
        Some("SCREAMING_SNAKE_CASE") => snake.to_ascii_uppercase(),
        Some("kebab-case") => snake.replace('_', "-"),
        Some("SCREAMING-KEBAB-CASE") => snake.replace('_', "-").to_ascii_uppercase(),
        _ => variant.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_rules_for_variants() {
        let r = |rule: &str| apply("OnLeave", &Some(rule.to_owned()));
        assert_eq!(apply("OnLeave", &None), "OnLeave");
        assert_eq!(r("lowercase"), "onleave");
        assert_eq!(r("UPPERCASE"), "ONLEAVE");
        assert_eq!(r("camelCase"), "onLeave");
        assert_eq!(r("snake_case"), "on_leave");
        assert_eq!(r("SCREAMING_SNAKE_CASE"), "ON_LEAVE");
        assert_eq!(r("kebab-case"), "on-leave");
        assert_eq!(r("SCREAMING-KEBAB-CASE"), "ON-LEAVE");
    }
}
