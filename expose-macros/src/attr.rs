//! Parsing: the struct attribute's arguments, the field attributes and serde's renames.

use crate::ast::{Attr, Field, Op, OpKind};
use crate::ctxt::Ctxt;
use syn::meta::ParseNestedMeta;
use syn::{LitInt, LitStr};

/// Struct-level keys.
const STRUCT_KEYS: &[&str] = &[
    "as", "table", "all", "list", "retrieve", "create", "update", "remove",
];
/// Operation keys.
const OP_KEYS: &[&str] = &[
    "fields",
    "filter",
    "sort",
    "order",
    "fixed_order",
    "where",
    "limit",
    "max_limit",
    "fixed_limit",
    "max_conditions",
    "max_depth",
    "max_in",
];
/// Field keys.
const FIELD_KEYS: &[&str] = &["id", "generated", "default", "column", "version"];

/// The closest of `candidates` to `word`, if it is close.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

fn unknown(meta: &ParseNestedMeta, what: &str, keys: &[&str]) -> syn::Error {
    let word = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    meta.error(format!(
        "unknown {what} `{word}`{}; expected one of: {}",
        did_you_mean(&word, keys.iter().copied()),
        keys.join(", ")
    ))
}

fn set<T>(cx: &Ctxt, meta: &ParseNestedMeta, slot: &mut Option<T>, value: T) {
    if slot.is_some() {
        cx.syn_error(meta.error(format!(
            "duplicate expose option `{}`; give it once",
            meta.path.get_ident().map(ToString::to_string).unwrap_or_default()
        )));
    } else {
        *slot = Some(value);
    }
}

/// Parses the arguments of `#[expose(...)]` on the struct.
pub(crate) fn parse_struct_attr(cx: &Ctxt, args: proc_macro2::TokenStream) -> Attr {
    let mut attr = Attr::default();
    let mut seen_all = false;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("as") {
            let v: LitStr = meta.value()?.parse()?;
            set(cx, &meta, &mut attr.path, v);
        } else if meta.path.is_ident("table") {
            let v: LitStr = meta.value()?.parse()?;
            set(cx, &meta, &mut attr.table, v);
        } else if meta.path.is_ident("all") {
            if seen_all {
                cx.syn_error(meta.error("duplicate expose option `all`; give it once"));
            }
            seen_all = true;
            attr.all = parse_op(cx, &meta)?;
        } else if let Some(kind) = OpKind::ALL.iter().find(|k| meta.path.is_ident(k.name())) {
            let ident = meta.path.get_ident().cloned().expect("checked by is_ident");
            let op = if meta.input.peek(syn::token::Paren) {
                parse_op(cx, &meta)?
            } else {
                Op::default()
            };
            if attr.ops.iter().any(|(k, _, _)| k == kind) {
                cx.error_spanned_by(
                    &ident,
                    format!("duplicate operation `{}`; give it once", kind.name()),
                );
            } else {
                attr.ops.push((*kind, ident, op));
            }
        } else {
            return Err(unknown(&meta, "expose option", STRUCT_KEYS));
        }
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        cx.syn_error(e);
    }
    attr
}

fn parse_op(cx: &Ctxt, outer: &ParseNestedMeta) -> syn::Result<Op> {
    let mut op = Op::default();
    outer.parse_nested_meta(|meta| {
        let name = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match name.as_str() {
            "fields" | "filter" | "sort" | "order" | "fixed_order" => {
                let v: LitStr = meta.value()?.parse()?;
                let slot = match name.as_str() {
                    "fields" => &mut op.fields,
                    "filter" => &mut op.filter,
                    "sort" => &mut op.sort,
                    "order" => &mut op.order,
                    _ => &mut op.fixed_order,
                };
                set(cx, &meta, slot, v);
            }
            "where" => op.wheres.push(meta.value()?.parse()?),
            "require_if_match" => {
                let ident = meta.path.get_ident().cloned().expect("ident");
                set(cx, &meta, &mut op.require_if_match, ident);
            }
            "limit" | "max_limit" | "fixed_limit" | "max_conditions" | "max_depth" | "max_in" => {
                let v: LitInt = meta.value()?.parse()?;
                let slot = match name.as_str() {
                    "limit" => &mut op.limit,
                    "max_limit" => &mut op.max_limit,
                    "fixed_limit" => &mut op.fixed_limit,
                    "max_conditions" => &mut op.max_conditions,
                    "max_depth" => &mut op.max_depth,
                    _ => &mut op.max_in,
                };
                set(cx, &meta, slot, v);
            }
            "pre" | "post" => {
                let value = meta.value()?;
                let paths: Vec<syn::Path> = if value.peek(syn::token::Bracket) {
                    let content;
                    syn::bracketed!(content in value);
                    content
                        .parse_terminated(syn::Path::parse_mod_style, syn::Token![,])?
                        .into_iter()
                        .collect()
                } else {
                    vec![value.parse()?]
                };
                if name == "pre" {
                    &mut op.pre
                } else {
                    &mut op.post
                }
                .extend(paths);
            }
            "scope" | "fields_for" => {
                let v: syn::Path = meta.value()?.parse()?;
                let slot = if name == "scope" {
                    &mut op.scope
                } else {
                    &mut op.fields_for
                };
                set(cx, &meta, slot, v);
            }
            "force" | "overwrite" => {
                let overwrite = name == "overwrite";
                meta.parse_nested_meta(|inner| {
                    let field = inner.path.require_ident()?.clone();
                    let f: syn::Path = inner.value()?.parse()?;
                    if op.force.iter().any(|(g, _, _)| *g == field) {
                        cx.error_spanned_by(
                            &field,
                            format!("`{field}` is forced twice; give it once"),
                        );
                    } else {
                        op.force.push((field, f, overwrite));
                    }
                    Ok(())
                })?;
            }
            _ => return Err(unknown(&meta, "operation option", OP_KEYS)),
        }
        Ok(())
    })?;
    Ok(op)
}

/// Reads `#[expose(...)]` and serde's renames off one field, removing the expose attribute.
pub(crate) fn parse_field(
    cx: &Ctxt,
    field: &mut syn::Field,
    rename_all: Option<&str>,
) -> Option<Field> {
    let ident = field.ident.clone()?;
    let mut key = None;
    let mut generated = None;
    let mut default = false;
    let mut version = None;
    let mut column: Option<LitStr> = None;
    let mut rename: Option<String> = None;
    for attr in &field.attrs {
        if attr.path().is_ident("expose") {
            let r = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("id") {
                    set(
                        cx,
                        &meta,
                        &mut key,
                        meta.path.get_ident().cloned().expect("ident"),
                    );
                } else if meta.path.is_ident("generated") {
                    set(
                        cx,
                        &meta,
                        &mut generated,
                        meta.path.get_ident().cloned().expect("ident"),
                    );
                } else if meta.path.is_ident("default") {
                    default = true;
                } else if meta.path.is_ident("version") {
                    let ident = meta.path.get_ident().cloned().expect("ident");
                    set(cx, &meta, &mut version, ident);
                } else if meta.path.is_ident("column") {
                    let v: LitStr = meta.value()?.parse()?;
                    set(cx, &meta, &mut column, v);
                } else {
                    return Err(unknown(&meta, "field option", FIELD_KEYS));
                }
                Ok(())
            });
            if let Err(e) = r {
                cx.syn_error(e);
            }
        } else if attr.path().is_ident("serde") {
            // Only `rename = "..."` matters; everything else serde takes is skipped.
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") && meta.input.peek(syn::Token![=]) {
                    let v: LitStr = meta.value()?.parse()?;
                    rename = Some(v.value());
                } else {
                    skip(&meta)?;
                }
                Ok(())
            });
        }
    }
    field.attrs.retain(|a| !a.path().is_ident("expose"));
    let rust = ident.to_string();
    let rust = rust.strip_prefix("r#").unwrap_or(&rust).to_owned();
    let name = rename.unwrap_or_else(|| apply_rename_all(&rust, rename_all));
    Some(Field {
        column: column.map(|c| c.value()).unwrap_or_else(|| rust.clone()),
        ident,
        ty: field.ty.clone(),
        name,
        key,
        generated,
        default,
        version,
    })
}

/// The documentation comment in `attrs`: every `#[doc = "..."]` line, one leading space
/// removed, joined with newlines and trimmed.
pub(crate) fn doc(attrs: &[syn::Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }),
                ..
            }) => Some(s.value()),
            _ => None,
        })
        .map(|l| l.strip_prefix(' ').unwrap_or(&l).trim_end().to_owned())
        .collect();
    lines.join("\n").trim().to_owned()
}

/// Consumes the value of a serde option we do not read.
fn skip(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip(&inner))?;
    }
    Ok(())
}

/// Reads `#[serde(rename_all = "...")]` on the struct.
pub(crate) fn rename_all(attrs: &[syn::Attribute]) -> Option<String> {
    let mut out = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") && meta.input.peek(syn::Token![=]) {
                let v: LitStr = meta.value()?.parse()?;
                out = Some(v.value());
            } else {
                skip(&meta)?;
            }
            Ok(())
        });
    }
    out
}

/// serde's `rename_all` rules, applied to a snake_case field name.
fn apply_rename_all(field: &str, rule: Option<&str>) -> String {
    let words = field.split('_').filter(|w| !w.is_empty());
    let cap = |w: &str| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    match rule {
        Some("lowercase") => field.to_lowercase(),
        Some("UPPERCASE") => field.to_uppercase(),
        Some("PascalCase") => words.map(cap).collect(),
        Some("camelCase") => {
            let pascal: String = words.map(cap).collect();
            let mut c = pascal.chars();
            c.next()
                .map(|f| f.to_lowercase().chain(c).collect())
                .unwrap_or_default()
        }
        Some("SCREAMING_SNAKE_CASE") => field.to_uppercase(),
        Some("kebab-case") => field.replace('_', "-"),
        Some("SCREAMING-KEBAB-CASE") => field.replace('_', "-").to_uppercase(),
        _ => field.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_all_rules() {
        assert_eq!(
            apply_rename_all("created_at", Some("camelCase")),
            "createdAt"
        );
        assert_eq!(
            apply_rename_all("created_at", Some("PascalCase")),
            "CreatedAt"
        );
        assert_eq!(
            apply_rename_all("created_at", Some("kebab-case")),
            "created-at"
        );
        assert_eq!(apply_rename_all("created_at", None), "created_at");
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("lsit", ["list", "remove"]),
            "; did you mean `list`?"
        );
        assert_eq!(did_you_mean("zzz", ["list", "remove"]), "");
    }
}
