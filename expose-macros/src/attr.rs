//! Parsing: the struct attribute's arguments, the field attributes and serde's renames.

use crate::ast::{
    Action, Attr, ChoiceLit, EmbedModel, Field, NumLit, Op, OperationKind, Rule, RuleKind,
};
use crate::ctxt::Ctxt;
use syn::meta::ParseNestedMeta;
use syn::parse::Parse;
use syn::{Ident, LitInt, LitStr};

/// Struct-level keys.
const STRUCT_KEYS: &[&str] = &[
    "as", "table", "validate", "state", "all", "list", "retrieve", "create", "update", "remove",
    "replace", "action", "view",
];
/// Options of `action(function, ...)`.
const ACTION_KEYS: &[&str] = &["method", "scope", "pre", "post", "doc", "require_if_match"];
/// How an action is written, for messages.
const ACTION_EXAMPLE: &str = "action(publish, method = \"POST\", scope = own_posts)";
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
    "pre",
    "post",
    "scope",
    "fields_for",
    "force",
    "overwrite",
    "require_if_match",
    "max_rows",
    "upsert",
    "max_affected",
    "unfiltered",
    "embed",
    "embed_depth",
    "embed_rows",
];
/// Field keys.
const FIELD_KEYS: &[&str] = &[
    "id",
    "generated",
    "generate",
    "default",
    "column",
    "version",
    "unique",
    "references",
    "validate",
];
/// Rules of a field's `validate(...)`.
const RULE_KEYS: &[&str] = &[
    "length",
    "non_empty",
    "range",
    "email",
    "url",
    "pattern",
    "one_of",
];

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

/// The key as written (`a::b` for a path).
fn key(meta: &ParseNestedMeta) -> String {
    let s = quote::ToTokens::to_token_stream(&meta.path)
        .to_string()
        .replace(' ', "");
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// Records an unknown key at its token and skips its value, so parsing goes on.
fn unknown(cx: &Ctxt, meta: &ParseNestedMeta, what: &str, keys: &[&str]) -> syn::Result<()> {
    let word = key(meta);
    let msg = if what == "expose option" && OP_KEYS.contains(&word.as_str()) {
        format!("`{word}` is an operation option: write it inside `list(...)` (or another operation, or `all(...)`)")
    } else if what == "expose option" && FIELD_KEYS.contains(&word.as_str()) {
        format!("`{word}` is a field option: write #[expose({word})] on the field")
    } else {
        match did_you_mean(&word, keys.iter().copied()) {
            hint if hint.is_empty() => format!(
                "unknown {what} `{word}`; expected one of: {}",
                keys.join(", ")
            ),
            hint => format!("unknown {what} `{word}`{hint}"),
        }
    };
    cx.syn_error(meta.error(msg));
    skip(meta)
}

/// Stores a value, or reports a duplicate at its second occurrence.
fn set<T>(cx: &Ctxt, meta: &ParseNestedMeta, slot: &mut Option<T>, value: T) {
    if slot.is_some() {
        cx.syn_error(meta.error(format!(
            "duplicate expose option `{}`; give it once",
            key(meta)
        )));
    } else {
        *slot = Some(value);
    }
}

/// How a model is embedded many-to-many, for messages.
const THROUGH_EXAMPLE: &str = "embed(Tag(through = PostTag))";

/// The models of `embed(User, Tag(through = PostTag))`.
fn parse_embed(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Vec<EmbedModel>> {
    let mut models = Vec::new();
    meta.parse_nested_meta(|m| {
        if m.input.peek(syn::Token![=]) {
            skip(&m)?;
            return Err(m.error(format!(
                "a model embedded many-to-many names its join model in parentheses, like {THROUGH_EXAMPLE}"
            )));
        }
        let through = match m.input.peek(syn::token::Paren) {
            true => parse_through(cx, &m)?,
            false => None,
        };
        models.push(EmbedModel {
            model: m.path.clone(),
            through,
        });
        Ok(())
    })?;
    Ok(models)
}

/// `(through = PostTag)` after a model of `embed(...)`: the join model.
fn parse_through(cx: &Ctxt, m: &ParseNestedMeta) -> syn::Result<Option<syn::Path>> {
    let content;
    let parens = syn::parenthesized!(content in m.input);
    let options: proc_macro2::TokenStream = content.parse()?;
    let mut through = None;
    if !options.is_empty() {
        let parse = syn::meta::parser(|o| {
            if !o.path.is_ident("through") {
                return unknown(cx, &o, "embed option", &["through"]);
            }
            let value = o.value().map_err(|_| {
                o.error(format!(
                    "write `through = PostTag`, as in {THROUGH_EXAMPLE}"
                ))
            })?;
            let v = value.call(syn::Path::parse_mod_style)?;
            set(cx, &o, &mut through, v);
            Ok(())
        });
        syn::parse::Parser::parse2(parse, options)?;
    }
    if through.is_none() {
        cx.syn_error(syn::Error::new(
            parens.span.join(),
            format!("name the join model the rows are linked through, like {THROUGH_EXAMPLE}, or write the model alone"),
        ));
    }
    Ok(through)
}

/// `key = "..."`; a value of another kind is reported with an example.
fn lit_str(meta: &ParseNestedMeta, example: &str) -> syn::Result<LitStr> {
    let expr: syn::Expr = meta.value()?.parse()?;
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Ok(s),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{}` takes a string, like {example}", key(meta)),
        )),
    }
}

/// `key = 10`; a value of another kind is reported with an example.
fn lit_int(meta: &ParseNestedMeta) -> syn::Result<LitInt> {
    let expr: syn::Expr = meta.value()?.parse()?;
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => Ok(i),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{0}` takes a whole number, like {0} = 100", key(meta)),
        )),
    }
}

/// A flag takes no value: `require_if_match`, not `require_if_match = true`.
fn flag(meta: &ParseNestedMeta) -> syn::Result<Ident> {
    if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
        let k = key(meta);
        skip(meta)?;
        return Err(meta.error(format!(
            "`{k}` is a flag and takes no value: write just `{k}`"
        )));
    }
    Ok(meta.path.get_ident().cloned().expect("flags are idents"))
}

/// `state = AppState`: a type.
fn state_type(meta: &ParseNestedMeta) -> syn::Result<syn::Type> {
    let value = meta.value().map_err(|_| {
        meta.error("write `state = AppState`: the type of the router's state the hooks read")
    })?;
    value.parse()
}

/// A further exposure's attribute, its checked operations and actions.
pub(crate) type ParsedView = (
    Attr,
    Vec<crate::check::CheckedOp>,
    Vec<crate::check::CheckedAction>,
);

/// Parses the arguments of `#[expose(...)]` on the struct.
pub(crate) fn parse_struct_attr(cx: &Ctxt, args: proc_macro2::TokenStream) -> Attr {
    let mut attr = Attr::default();
    let mut seen_all = false;
    let parser = syn::meta::parser(|meta| {
        let r = (|| {
            if meta.path.is_ident("as") {
                let v = lit_str(&meta, "as = \"people\"")?;
                set(cx, &meta, &mut attr.path, v);
            } else if meta.path.is_ident("table") {
                let v = lit_str(&meta, "table = \"person\"")?;
                set(cx, &meta, &mut attr.table, v);
            } else if meta.path.is_ident("validate") {
                if meta.input.peek(syn::token::Paren) {
                    skip(&meta)?;
                    return Err(meta.error(
                        "on the struct, `validate` names the model's function for rules across fields, like validate = check_loan; a field's rules go on the field: #[expose(validate(length(max = 100)))]",
                    ));
                }
                let v: syn::Path = meta.value()?.call(syn::Path::parse_mod_style)?;
                set(cx, &meta, &mut attr.validate, v);
            } else if meta.path.is_ident("state") {
                let v = state_type(&meta)?;
                set(cx, &meta, &mut attr.state, v);
            } else if meta.path.is_ident("all") {
                if !meta.input.peek(syn::token::Paren) {
                    return Err(meta.error(
                        "`all` takes options shared by every operation, like all(fields = \"-password\")",
                    ));
                }
                let op = parse_op(cx, &meta)?;
                if seen_all {
                    cx.syn_error(meta.error("duplicate expose option `all`; give it once"));
                } else {
                    attr.all = op;
                }
                seen_all = true;
            } else if meta.path.is_ident("view") {
                let v: Ident = meta.value()?.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "write `view = AdminUsers`: the name of the type this exposure generates",
                    )
                })?;
                set(cx, &meta, &mut attr.view, v);
            } else if meta.path.is_ident("action") {
                let action = parse_action(cx, &meta)?;
                attr.actions.push(action);
            } else if let Some(kind) = OperationKind::ALL
                .iter()
                .find(|k| meta.path.is_ident(k.name()))
            {
                let ident = meta.path.get_ident().cloned().expect("checked by is_ident");
                let op = if meta.input.peek(syn::token::Paren) {
                    parse_op(cx, &meta)?
                } else if meta.input.is_empty() || meta.input.peek(syn::Token![,]) {
                    Op::default()
                } else {
                    skip(&meta)?;
                    return Err(meta.error(format!(
                        "write `{0}` or `{0}(...)` with its options in parentheses",
                        kind.name()
                    )));
                };
                if attr.ops.iter().any(|(k, _, _)| k == kind) {
                    cx.error_spanned_by(
                        &ident,
                        format!(
                            "duplicate operation `{}`; give it once, with all its options",
                            kind.name()
                        ),
                    );
                } else {
                    attr.ops.push((*kind, ident, op));
                }
            } else {
                return unknown(cx, &meta, "expose option", STRUCT_KEYS);
            }
            Ok(())
        })();
        if let Err(e) = r {
            cx.syn_error(e);
            skip(&meta)?;
        }
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        cx.syn_error(e);
    }
    attr
}

/// `pre = f` or `pre = [f, g]`.
fn paths(meta: &ParseNestedMeta) -> syn::Result<Vec<syn::Path>> {
    let value = meta.value()?;
    if value.peek(syn::token::Bracket) {
        let content;
        syn::bracketed!(content in value);
        Ok(content
            .parse_terminated(syn::Path::parse_mod_style, syn::Token![,])?
            .into_iter()
            .collect())
    } else {
        Ok(vec![value.call(syn::Path::parse_mod_style)?])
    }
}

fn parse_op(cx: &Ctxt, outer: &ParseNestedMeta) -> syn::Result<Op> {
    let mut op = Op::default();
    let mut seen_pre = false;
    let mut seen_post = false;
    outer.parse_nested_meta(|meta| {
        let r = (|| {
            let name = key(&meta);
            match name.as_str() {
                "fields" | "filter" | "sort" | "order" | "fixed_order" => {
                    let example = match name.as_str() {
                        "fields" => "fields = \"name,email\" or fields = \"-password\"",
                        "filter" => "filter = \"name,age\"",
                        "sort" => "sort = \"name,age\"",
                        _ => "order = \"age.desc,name\"",
                    };
                    let v = lit_str(&meta, example)?;
                    let slot = match name.as_str() {
                        "fields" => &mut op.fields,
                        "filter" => &mut op.filter,
                        "sort" => &mut op.sort,
                        "order" => &mut op.order,
                        _ => &mut op.fixed_order,
                    };
                    set(cx, &meta, slot, v);
                }
                "where" => op
                    .wheres
                    .push(lit_str(&meta, "where = \"is_admin.eq.false\"")?),
                "require_if_match" | "upsert" | "unfiltered" => {
                    let ident = flag(&meta)?;
                    let slot = match name.as_str() {
                        "require_if_match" => &mut op.require_if_match,
                        "upsert" => &mut op.upsert,
                        _ => &mut op.unfiltered,
                    };
                    set(cx, &meta, slot, ident);
                }
                "embed" => {
                    if !meta.input.peek(syn::token::Paren) {
                        return Err(meta.error(
                            "`embed` takes the models a client may embed, like embed(User, Comment)",
                        ));
                    }
                    let models = parse_embed(cx, &meta)?;
                    let ident = meta.path.get_ident().cloned().expect("an ident");
                    set(cx, &meta, &mut op.embed, (ident, models));
                }
                "limit" | "max_limit" | "fixed_limit" | "max_conditions" | "max_depth"
                | "max_in" | "max_rows" | "max_affected" | "embed_depth" | "embed_rows" => {
                    let v = lit_int(&meta)?;
                    let slot = match name.as_str() {
                        "embed_depth" => &mut op.embed_depth,
                        "embed_rows" => &mut op.embed_rows,
                        "limit" => &mut op.limit,
                        "max_limit" => &mut op.max_limit,
                        "fixed_limit" => &mut op.fixed_limit,
                        "max_conditions" => &mut op.max_conditions,
                        "max_depth" => &mut op.max_depth,
                        "max_in" => &mut op.max_in,
                        "max_rows" => &mut op.max_rows,
                        _ => &mut op.max_affected,
                    };
                    set(cx, &meta, slot, v);
                }
                "pre" | "post" => {
                    let found = paths(&meta)?;
                    let seen = if name == "pre" {
                        &mut seen_pre
                    } else {
                        &mut seen_post
                    };
                    if *seen {
                        cx.syn_error(meta.error(format!(
                            "duplicate expose option `{name}`; list every hook once: {name} = [first, second]"
                        )));
                        return Ok(());
                    }
                    *seen = true;
                    let list = if name == "pre" { &mut op.pre } else { &mut op.post };
                    for p in found {
                        if list.contains(&p) {
                            cx.error_spanned_by(&p, "this hook is already listed; give it once");
                        } else {
                            list.push(p);
                        }
                    }
                }
                "scope" | "fields_for" => {
                    let v: syn::Path = meta.value()?.call(syn::Path::parse_mod_style)?;
                    let slot = if name == "scope" {
                        &mut op.scope
                    } else {
                        &mut op.fields_for
                    };
                    set(cx, &meta, slot, v);
                }
                "force" | "overwrite" => {
                    let overwrite = name == "overwrite";
                    if !meta.input.peek(syn::token::Paren) {
                        return Err(meta.error(format!(
                            "`{name}` takes field = function pairs, like {name}(owner_id = current_user_id)"
                        )));
                    }
                    meta.parse_nested_meta(|inner| {
                        let field = inner.path.require_ident()?.clone();
                        let f: syn::Path = inner.value()?.call(syn::Path::parse_mod_style)?;
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
                _ => return unknown(cx, &meta, "operation option", OP_KEYS),
            }
            Ok(())
        })();
        if let Err(e) = r {
            cx.syn_error(e);
            skip(&meta)?;
        }
        Ok(())
    })?;
    Ok(op)
}

/// `action(publish, method = "POST", scope = own_posts, pre = [...], post = [...])`: the
/// function's path first, then its options.
fn parse_action(cx: &Ctxt, outer: &ParseNestedMeta) -> syn::Result<Action> {
    if !outer.input.peek(syn::token::Paren) {
        return Err(outer.error(format!(
            "`action` takes the function to run and its options: write {ACTION_EXAMPLE}"
        )));
    }
    let content;
    syn::parenthesized!(content in outer.input);
    // Parsed apart, so that an error leaves nothing unread in the attribute.
    let tokens: proc_macro2::TokenStream = content.parse()?;
    let first_item = || {
        format!(
            "the first item of `action(...)` is the path of the function to run (`publish` or \
             `handlers::publish`, without generics or a call), then its options: write {ACTION_EXAMPLE}"
        )
    };
    let head =
        |input: syn::parse::ParseStream| -> syn::Result<(syn::Path, proc_macro2::TokenStream)> {
            if input.is_empty() || input.peek(syn::Lit) {
                return Err(input.error(first_item()));
            }
            let func: syn::Path = input
                .call(syn::Path::parse_mod_style)
                .map_err(|e| syn::Error::new(e.span(), first_item()))?;
            if !input.is_empty() && !input.peek(syn::Token![,]) {
                return Err(input.error(first_item()));
            }
            if !input.is_empty() {
                input.parse::<syn::Token![,]>()?;
            }
            Ok((func, input.parse()?))
        };
    let (func, rest) = syn::parse::Parser::parse2(head, tokens)?;
    if let Some(k) = ACTION_KEYS.iter().find(|k| func.is_ident(k)) {
        return Err(syn::Error::new_spanned(
            &func,
            format!("`{k}` is an option of the action; {}", first_item()),
        ));
    }
    let mut action = Action {
        func,
        method: None,
        scope: None,
        pre: Vec::new(),
        post: Vec::new(),
        doc: None,
        require_if_match: None,
    };
    let (mut seen_pre, mut seen_post) = (false, false);
    let parser = syn::meta::parser(|meta| {
        let r = (|| {
            let name = key(&meta);
            match name.as_str() {
                "method" => {
                    let v = lit_str(&meta, "method = \"POST\"")?;
                    set(cx, &meta, &mut action.method, v);
                }
                "doc" => {
                    let v = lit_str(&meta, "doc = \"Publish a post\"")?;
                    set(cx, &meta, &mut action.doc, v);
                }
                "scope" => {
                    let v: syn::Path = meta.value()?.call(syn::Path::parse_mod_style)?;
                    set(cx, &meta, &mut action.scope, v);
                }
                "require_if_match" => {
                    let v = flag(&meta)?;
                    set(cx, &meta, &mut action.require_if_match, v);
                }
                "pre" | "post" => {
                    let (seen, list) = match name.as_str() {
                        "pre" => (&mut seen_pre, &mut action.pre),
                        _ => (&mut seen_post, &mut action.post),
                    };
                    let found = paths(&meta)?;
                    if std::mem::replace(seen, true) {
                        cx.syn_error(meta.error(format!(
                            "duplicate expose option `{name}`; list every hook once: {name} = [first, second]"
                        )));
                    } else {
                        list.extend(found);
                    }
                }
                _ => return unknown(cx, &meta, "action option", ACTION_KEYS),
            }
            Ok(())
        })();
        if let Err(e) = r {
            cx.syn_error(e);
            skip(&meta)?;
        }
        Ok(())
    });
    syn::parse::Parser::parse2(parser, rest)?;
    Ok(action)
}

/// Reads `#[expose(...)]`, serde's renames and the doc comment of one named field.
pub(crate) fn parse_field(
    cx: &Ctxt,
    field: &syn::Field,
    rename_all: Option<&str>,
) -> Option<Field> {
    let ident = field.ident.clone()?;
    let mut key = None;
    let mut generated = None;
    let mut default = None;
    let mut default_sql: Option<LitStr> = None;
    let mut generate: Option<syn::Path> = None;
    let mut references: Option<LitStr> = None;
    let mut references_model: Option<syn::Path> = None;
    let mut version = None;
    let mut unique = None;
    let mut column: Option<LitStr> = None;
    let mut rules: Vec<Rule> = Vec::new();
    let mut rename: Option<String> = None;
    for attr in &field.attrs {
        if attr.path().is_ident("expose") {
            let r = attr.parse_nested_meta(|meta| {
                let r = (|| {
                    if meta.path.is_ident("id") {
                        let i = flag(&meta)?;
                        set(cx, &meta, &mut key, i);
                    } else if meta.path.is_ident("generated") {
                        let i = flag(&meta)?;
                        set(cx, &meta, &mut generated, i);
                    } else if meta.path.is_ident("default") {
                        if meta.input.peek(syn::Token![=]) {
                            let v = lit_str(&meta, "default = \"FALSE\"")?;
                            set(cx, &meta, &mut default_sql, v);
                            set(
                                cx,
                                &meta,
                                &mut default,
                                meta.path.get_ident().cloned().expect("ident"),
                            );
                        } else {
                            let i = flag(&meta)?;
                            set(cx, &meta, &mut default, i);
                        }
                    } else if meta.path.is_ident("references") {
                        let value = meta.value()?;
                        if value.peek(LitStr) {
                            let v: LitStr = value.parse()?;
                            set(cx, &meta, &mut references, v);
                        } else if value.peek(Ident) || value.peek(syn::Token![::]) || value.peek(syn::Token![crate]) || value.peek(syn::Token![self]) || value.peek(syn::Token![super]) {
                            let v = value.call(syn::Path::parse_mod_style)?;
                            set(cx, &meta, &mut references_model, v);
                        } else {
                            let other: syn::Expr = value.parse()?;
                            return Err(syn::Error::new_spanned(
                                other,
                                "`references` takes an exposed model, like references = User, or a table's column as text, like references = \"users(id)\"",
                            ));
                        }
                    } else if meta.path.is_ident("generate") {
                        let f: syn::Path = meta.value()?.call(syn::Path::parse_mod_style)?;
                        set(cx, &meta, &mut generate, f);
                    } else if meta.path.is_ident("version") {
                        let i = flag(&meta)?;
                        set(cx, &meta, &mut version, i);
                    } else if meta.path.is_ident("unique") {
                        let i = flag(&meta)?;
                        set(cx, &meta, &mut unique, i);
                    } else if meta.path.is_ident("validate") {
                        if !meta.input.peek(syn::token::Paren) {
                            skip(&meta)?;
                            return Err(meta.error(
                                "on a field, `validate` takes rules in parentheses, like validate(length(min = 1, max = 100)); a model's function for rules across fields goes on the struct: #[expose(validate = check_fn)]",
                            ));
                        }
                        parse_rules(cx, &meta, &mut rules)?;
                    } else if meta.path.is_ident("column") {
                        let v = lit_str(&meta, "column = \"person_id\"")?;
                        set(cx, &meta, &mut column, v);
                    } else {
                        return unknown(cx, &meta, "field option", FIELD_KEYS);
                    }
                    Ok(())
                })();
                if let Err(e) = r {
                    cx.syn_error(e);
                    skip(&meta)?;
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
    if let (Some(text), Some(_)) = (&references, &references_model) {
        cx.error_spanned_by(
            text,
            "give `references` once: a model (references = User) or a table's column as text",
        );
    }
    let rust = ident.to_string();
    let rust = rust.strip_prefix("r#").unwrap_or(&rust).to_owned();
    let name = rename.unwrap_or_else(|| apply_rename_all(&rust, rename_all));
    Some(Field {
        column: column.map_or_else(|| rust.clone(), |c| c.value()),
        ident,
        ty: field.ty.clone(),
        name,
        key,
        generated,
        default: default.is_some(),
        default_sql,
        generate,
        references,
        references_model,
        version,
        unique,
        doc: doc(&field.attrs),
        rules,
    })
}

/// The rules of a field's `validate(...)`: `length(min = 1, max = 100)`, `non_empty`,
/// `range(min = 0, max = 150)`, `email`, `url`, `pattern = "^[a-z]+$"` (or
/// `pattern("...")`), `one_of("a", "b")`.
fn parse_rules(cx: &Ctxt, outer: &ParseNestedMeta, rules: &mut Vec<Rule>) -> syn::Result<()> {
    outer.parse_nested_meta(|meta| {
        let r = (|| {
            let name = key(&meta);
            let Some(ident) = meta.path.get_ident().cloned() else {
                return unknown(cx, &meta, "validation rule", RULE_KEYS);
            };
            let kind = match name.as_str() {
                "non_empty" | "email" | "url" => {
                    flag(&meta)?;
                    match name.as_str() {
                        "non_empty" => RuleKind::NonEmpty,
                        "email" => RuleKind::Email,
                        _ => RuleKind::Url,
                    }
                }
                "length" | "range" => {
                    if !meta.input.peek(syn::token::Paren) {
                        skip(&meta)?;
                        return Err(meta.error(format!(
                            "`{name}` takes bounds, like {name}(min = 1, max = 100)"
                        )));
                    }
                    let mut min = None;
                    let mut max = None;
                    meta.parse_nested_meta(|bound| {
                        let which = key(&bound);
                        if which != "min" && which != "max" {
                            cx.syn_error(bound.error(format!(
                                "unknown bound `{which}` of `{name}`; write min = ..., max = ... or both"
                            )));
                            return skip(&bound);
                        }
                        let expr: syn::Expr = bound.value()?.parse()?;
                        let slot = if which == "min" { &mut min } else { &mut max };
                        if slot.is_some() {
                            cx.error_spanned_by(&expr, format!("`{which}` is given twice; give it once"));
                        } else {
                            *slot = Some(expr);
                        }
                        Ok(())
                    })?;
                    if name == "length" {
                        let int = |e: Option<syn::Expr>| -> syn::Result<Option<LitInt>> {
                            match e {
                                None => Ok(None),
                                Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. })) => Ok(Some(i)),
                                Some(other) => Err(syn::Error::new_spanned(
                                    other,
                                    "a length is a whole number of characters, like length(min = 1, max = 100)",
                                )),
                            }
                        };
                        RuleKind::Length { min: int(min)?, max: int(max)? }
                    } else {
                        let num = |e: Option<syn::Expr>| -> syn::Result<Option<Box<(NumLit, syn::Expr)>>> {
                            match e {
                                None => Ok(None),
                                Some(e) => match num_lit(&e) {
                                    Some(n) => Ok(Some(Box::new((n, e)))),
                                    None => Err(syn::Error::new_spanned(
                                        e,
                                        "a bound of `range` is a number literal, like range(min = 0, max = 150)",
                                    )),
                                },
                            }
                        };
                        RuleKind::Range { min: num(min)?, max: num(max)? }
                    }
                }
                "pattern" => {
                    let lit = if meta.input.peek(syn::token::Paren) {
                        let content;
                        syn::parenthesized!(content in meta.input);
                        content.parse::<LitStr>()?
                    } else {
                        lit_str(&meta, "pattern = \"^[a-z]+$\"")?
                    };
                    RuleKind::Pattern(lit)
                }
                "one_of" => {
                    if !meta.input.peek(syn::token::Paren) {
                        skip(&meta)?;
                        return Err(meta.error(
                            "`one_of` lists the values allowed, like one_of(\"draft\", \"published\")",
                        ));
                    }
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let items = content.parse_terminated(syn::Expr::parse, syn::Token![,])?;
                    RuleKind::OneOf(
                        items
                            .into_iter()
                            .map(|e| {
                                let c = match &e {
                                    syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => {
                                        ChoiceLit::Text(s.value())
                                    }
                                    _ => match num_lit(&e) {
                                        Some(NumLit::Int(i)) => ChoiceLit::Int(i),
                                        _ => ChoiceLit::Other,
                                    },
                                };
                                (c, e)
                            })
                            .collect(),
                    )
                }
                _ => return unknown(cx, &meta, "validation rule", RULE_KEYS),
            };
            if rules.iter().any(|r| r.ident == ident) {
                cx.error_spanned_by(&ident, format!("the rule `{name}` is given twice; give it once"));
            } else {
                rules.push(Rule { ident, kind });
            }
            Ok(())
        })();
        if let Err(e) = r {
            cx.syn_error(e);
            skip(&meta)?;
        }
        Ok(())
    })
}

/// A number literal, or a negated one: `150`, `-1`, `0.5`.
fn num_lit(e: &syn::Expr) -> Option<NumLit> {
    match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse::<i128>().ok().map(NumLit::Int),
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(f),
            ..
        }) => f.base10_parse::<f64>().ok().map(NumLit::Float),
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => match num_lit(expr)? {
            NumLit::Int(i) => Some(NumLit::Int(-i)),
            NumLit::Float(f) => Some(NumLit::Float(-f)),
        },
        syn::Expr::Group(g) => num_lit(&g.expr),
        _ => None,
    }
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
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<proc_macro2::TokenStream>()?;
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
