//! Validation against the struct: every name resolved, every policy consistent. The output
//! is what `expand` writes, in Rust field names.

use crate::ast::{Attr, ChoiceLit, EmbedModel, Field, NumLit, Op, OperationKind, RuleKind};
use crate::attr::did_you_mean;
use crate::ctxt::Ctxt;
use expose_core::grammar::{self, Expr, IsValue, Operand, TypeClass};
use quote::ToTokens;
use syn::{LitInt, LitStr};

/// A checked operation, options merged with `all(...)`.
pub(crate) struct CheckedOp {
    pub(crate) kind: OperationKind,
    pub(crate) fields: Vec<String>,
    pub(crate) filterable: Option<Vec<String>>,
    pub(crate) sortable: Option<Vec<String>>,
    pub(crate) order: Option<String>,
    pub(crate) fixed_order: bool,
    pub(crate) wheres: Vec<String>,
    pub(crate) limit: Option<u64>,
    pub(crate) max_limit: Option<u64>,
    pub(crate) fixed_limit: bool,
    pub(crate) max_conditions: Option<u64>,
    pub(crate) max_depth: Option<u64>,
    pub(crate) max_in: Option<u64>,
    pub(crate) pre: Vec<syn::Path>,
    pub(crate) post: Vec<syn::Path>,
    pub(crate) scope: Option<syn::Path>,
    pub(crate) fields_for: Option<syn::Path>,
    /// (field ident, field type, function, overwrite)
    pub(crate) force: Vec<(syn::Ident, syn::Type, syn::Path, bool)>,
    pub(crate) require_if_match: bool,
    pub(crate) max_rows: Option<u64>,
    pub(crate) upsert: bool,
    pub(crate) max_affected: Option<u64>,
    pub(crate) unfiltered: bool,
    /// The models a client may embed (list, retrieve), each alone or through a join model.
    pub(crate) embed: Vec<EmbedModel>,
    pub(crate) embed_depth: Option<u64>,
    pub(crate) embed_rows: Option<u64>,
}

/// The value kind of a field, read off its Rust type where it is one we know.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    I16,
    I32,
    I64,
    F32,
    F64,
    Bool,
    Text,
    Json,
    /// `Vec<T>` of a supported item type (the item's kind: `I32`, `I64`, `F64`, `Bool` or
    /// `Text`).
    Array(Item),
    /// Dates, date-times, UUIDs, decimals: ordered, not text; their values are left to the
    /// runtime.
    Scalar,
    /// A type this check does not know (an alias, say); the runtime decides.
    Other,
}

/// The item kind of an array field.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Item {
    I32,
    I64,
    F64,
    Bool,
    Text,
}

impl Item {
    fn kind(self) -> Kind {
        match self {
            Item::I32 => Kind::I32,
            Item::I64 => Kind::I64,
            Item::F64 => Kind::F64,
            Item::Bool => Kind::Bool,
            Item::Text => Kind::Text,
        }
    }
}

impl Kind {
    /// The class the grammar's operator table knows the kind by; `None` for [`Kind::Other`].
    fn class(self) -> Option<TypeClass> {
        Some(match self {
            Kind::Text => TypeClass::Text,
            Kind::Bool => TypeClass::Bool,
            Kind::Json => TypeClass::Json,
            Kind::Array(_) => TypeClass::Array,
            Kind::I16 | Kind::I32 | Kind::I64 | Kind::F32 | Kind::F64 | Kind::Scalar => {
                TypeClass::Ordered
            }
            Kind::Other => return None,
        })
    }

    /// Checks one operand value as the runtime's `Value::parse` will at router build (for
    /// the kinds it can tell here); the error says what is expected.
    fn check_value(self, v: &str) -> Result<(), String> {
        if let Kind::Array(item) = self {
            let items = grammar::parse_array_literal(v)
                .map_err(|why| format!("an array literal such as {{a,b}} ({why})"))?;
            return items
                .iter()
                .try_for_each(|i| item.kind().check_value(i))
                .map_err(|e| format!("an array literal of items each {e}"));
        }
        if self == Kind::Json {
            return serde_json_free_check(v);
        }
        self.check_scalar(v).map_err(str::to_owned)
    }

    fn check_scalar(self, v: &str) -> Result<(), &'static str> {
        fn finite<T: std::str::FromStr + Into<f64>>(v: &str) -> bool {
            v.parse::<T>().is_ok_and(|x| x.into().is_finite())
        }
        let (ok, expected) = match self {
            Kind::I16 => (v.parse::<i16>().is_ok(), "an integer from -32768 to 32767"),
            Kind::I32 => (
                v.parse::<i32>().is_ok(),
                "an integer from -2147483648 to 2147483647",
            ),
            Kind::I64 => (
                v.parse::<i64>().is_ok(),
                "an integer from -9223372036854775808 to 9223372036854775807",
            ),
            Kind::F32 => (finite::<f32>(v), "a finite number"),
            Kind::F64 => (finite::<f64>(v), "a finite number"),
            Kind::Bool => (matches!(v, "true" | "false"), "`true` or `false`"),
            Kind::Text => (!v.contains('\0'), "text without NUL characters"),
            Kind::Json | Kind::Array(_) | Kind::Scalar | Kind::Other => (true, ""),
        };
        if ok {
            Ok(())
        } else {
            Err(expected)
        }
    }
}

/// A JSON document's outline as the macro can check it without a JSON parser: an object
/// or an array in balanced brackets, or a scalar; the runtime parses it at router build.
fn serde_json_free_check(v: &str) -> Result<(), String> {
    let v = v.trim();
    let balanced = |open: char, close: char| v.starts_with(open) && v.ends_with(close);
    if v.is_empty() || (v.starts_with(['{', '[']) && !balanced('{', '}') && !balanced('[', ']')) {
        return Err("a JSON document such as {\"a\":1} or [1,2]".into());
    }
    Ok(())
}

fn kind_of(ty: &syn::Type) -> Kind {
    let syn::Type::Path(p) = ty else {
        return Kind::Other;
    };
    let Some(last) = p.path.segments.last() else {
        return Kind::Other;
    };
    if last.ident == "Option" {
        if let syn::PathArguments::AngleBracketed(a) = &last.arguments {
            if let Some(syn::GenericArgument::Type(inner)) = a.args.first() {
                return kind_of(inner);
            }
        }
    }
    if last.ident == "Vec" {
        if let syn::PathArguments::AngleBracketed(a) = &last.arguments {
            if let Some(syn::GenericArgument::Type(inner)) = a.args.first() {
                return match kind_of(inner) {
                    Kind::I32 => Kind::Array(Item::I32),
                    Kind::I64 => Kind::Array(Item::I64),
                    Kind::F64 => Kind::Array(Item::F64),
                    Kind::Bool => Kind::Array(Item::Bool),
                    Kind::Text => Kind::Array(Item::Text),
                    _ => Kind::Other,
                };
            }
        }
    }
    match last.ident.to_string().as_str() {
        "i16" => Kind::I16,
        "i32" => Kind::I32,
        "i64" => Kind::I64,
        "f32" => Kind::F32,
        "f64" => Kind::F64,
        "bool" => Kind::Bool,
        "String" => Kind::Text,
        "Value" | "Json" => Kind::Json,
        "DateTime" | "NaiveDate" | "Uuid" | "Decimal" => Kind::Scalar,
        _ => Kind::Other,
    }
}

/// Checks the attribute against the fields; returns the checked operations.
pub(crate) fn check(
    cx: &Ctxt,
    attr: &Attr,
    fields: &[Field],
    struct_ident: &syn::Ident,
) -> Vec<CheckedOp> {
    // Absences are reported only when the attribute parsed cleanly: after `as = people` or
    // `lsit`, "needs `as`" and "no operation" would only repeat the first error.
    let parsed = !cx.has_errors();
    if attr.path.is_none() && parsed {
        cx.error_spanned_by(
            struct_ident,
            "#[expose] needs `as = \"...\"`, the URL segment of the resource, e.g. #[expose(as = \"people\", list)]",
        );
    }
    if let Some(p) = &attr.path {
        let v = p.value();
        if v.is_empty()
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        {
            cx.error_spanned_by(
                p,
                "`as` must be one URL segment of letters, digits, `-` and `_`",
            );
        }
    }
    let keys: Vec<&Field> = fields.iter().filter(|f| f.key.is_some()).collect();
    match keys.as_slice() {
        [] if fields.iter().any(|f| f.ident == "id") => {}
        [] => cx.error_spanned_by(
            struct_ident,
            "#[expose] needs a primary key: mark one field with #[expose(id)] (or name it `id`)",
        ),
        [_] => {}
        [_, second, ..] => cx.error_spanned_by(
            second.key.as_ref().expect("filtered on key"),
            "a model has exactly one primary key; remove #[expose(id)] from all fields but one",
        ),
    }
    let versions: Vec<&Field> = fields.iter().filter(|f| f.version.is_some()).collect();
    if let [_, second, ..] = versions.as_slice() {
        cx.error_spanned_by(
            second.version.as_ref().expect("filtered on version"),
            "a model has at most one version field; remove #[expose(version)] from all but one",
        );
    }
    for f in &versions {
        if !matches!(kind_of(&f.ty), Kind::I16 | Kind::I32 | Kind::I64) {
            cx.error_spanned_by(
                &f.ty,
                "a version field must be an integer (i16, i32 or i64)",
            );
        }
    }
    if fields.len() > 64 {
        cx.error_spanned_by(struct_ident, "#[expose] supports at most 64 fields");
    }
    for f in fields.iter().filter(|f| is_key(f, fields)) {
        if let Some(u) = &f.unique {
            cx.error_spanned_by(
                u,
                format!(
                    "`{}` is the key, which is already unique; remove `unique`",
                    f.ident
                ),
            );
        }
    }
    if attr.ops.is_empty() && parsed {
        cx.error_spanned_by(
            struct_ident,
            "#[expose] exposes no operation: add some of list, retrieve, create, update, remove, replace",
        );
    }
    for f in fields {
        check_rules(cx, f);
    }
    check_upsert(cx, attr, fields);
    for w in &attr.all.wheres {
        check_where(cx, w, fields);
    }
    for (kind, _, op) in &attr.ops {
        check_op_options(cx, *kind, op);
    }
    // Reads first: a collection write may filter only on what some read returns.
    let (reads, writes): (Vec<_>, Vec<_>) = attr.ops.iter().partition(|(k, _, _)| k.reads());
    let mut out = Vec::new();
    for (kind, _, op) in reads {
        out.push(checked_op(
            cx,
            *kind,
            op,
            &attr.all,
            fields,
            &Readable::default(),
        ));
    }
    let readable = Readable::of(&out, fields);
    for (kind, _, op) in writes {
        out.push(checked_op(cx, *kind, op, &attr.all, fields, &readable));
    }
    check_generate(cx, attr, fields, &out);
    out
}

/// `generate` makes the key in Rust: on the key only, not with `generated`; and a create
/// must get its key from somewhere (the database, `generate`, the client or a `force`).
fn check_generate(cx: &Ctxt, attr: &Attr, fields: &[Field], ops: &[CheckedOp]) {
    for f in fields {
        let Some(path) = &f.generate else { continue };
        if !is_key(f, fields) {
            cx.error_spanned_by(
                path,
                format!(
                    "`generate` makes a new key in Rust, and `{}` is not the key; set a \
                     non-key field on create with `create(force(field = function))` or a \
                     column default, #[expose(default = \"...\")]",
                    f.ident
                ),
            );
        } else if f.generated.is_some() {
            cx.error_spanned_by(
                path,
                format!(
                    "`{}` is `generated` by the database and also made in Rust by `generate`; \
                     keep one of them",
                    f.ident
                ),
            );
        }
    }
    // After another error the create's fields may be wrong: that error is the one to fix.
    if cx.has_errors() {
        return;
    }
    let Some(key) = fields.iter().find(|f| is_key(f, fields)) else {
        return;
    };
    let Some(create) = ops.iter().find(|o| o.kind == OperationKind::Create) else {
        return;
    };
    let key_name = key.ident_str();
    let supplied =
        create.fields.contains(&key_name) || create.force.iter().any(|(f, ..)| *f == key.ident);
    if key.generated.is_none() && !key.default && key.generate.is_none() && !supplied {
        let token = attr
            .ops
            .iter()
            .find(|(k, _, _)| *k == OperationKind::Create)
            .map(|(_, ident, _)| ident);
        let msg = format!(
            "create can neither generate the key `{key_name}` nor take it from the client: mark \
             it #[expose(id, generated)] (the database assigns it), #[expose(id, generate = \
             uuid::Uuid::new_v4)] (made in Rust), or add it to create's fields"
        );
        match token {
            Some(t) => cx.error_spanned_by(t, msg),
            None => cx.error_spanned_by(&key.ident, msg),
        }
    }
}

/// What some read operation returns (the key always): the fields a collection write may
/// filter on, why others are not among them and how to make them so.
#[derive(Default)]
struct Readable {
    fields: Vec<String>,
    why_not: String,
    fix: String,
}

impl Readable {
    fn of(reads: &[CheckedOp], fields: &[Field]) -> Readable {
        let (why_not, fix) = match reads {
            [] => (
                "only the key is, as the model exposes neither `list` nor `retrieve`".to_owned(),
                "expose a `list` or `retrieve` that returns it".to_owned(),
            ),
            [one] => (
                format!("`{}` does not return it", one.kind.name()),
                format!("add it to the `fields` of `{}`", one.kind.name()),
            ),
            _ => (
                "neither `list` nor `retrieve` returns it".to_owned(),
                "add it to the `fields` of `list` or `retrieve`".to_owned(),
            ),
        };
        let fields = fields
            .iter()
            .filter(|f| {
                is_key(f, fields) || reads.iter().any(|r| r.fields.contains(&f.ident_str()))
            })
            .map(Field::ident_str)
            .collect();
        Readable {
            fields,
            why_not,
            fix,
        }
    }
}

/// The primary key: the field marked `id`, else the field named `id`.
fn is_key(f: &Field, fields: &[Field]) -> bool {
    f.key.is_some() || (f.ident == "id" && !fields.iter().any(|g| g.key.is_some()))
}

/// `create(upsert)` merges a duplicate into the existing row, so the model must expose
/// `update`; and some column must be able to conflict: a key the client sends, or a
/// `unique` field.
fn check_upsert(cx: &Ctxt, attr: &Attr, fields: &[Field]) {
    let Some((_, _, create)) = attr
        .ops
        .iter()
        .find(|(k, _, _)| *k == OperationKind::Create)
    else {
        return;
    };
    let Some(upsert) = create.upsert.as_ref().or(attr.all.upsert.as_ref()) else {
        return;
    };
    if !attr.ops.iter().any(|(k, _, _)| *k == OperationKind::Update) {
        cx.error_spanned_by(
            upsert,
            "`upsert` may merge a request into an existing row, which is an update: expose `update` too",
        );
    }
    let key = fields.iter().find(|f| is_key(f, fields));
    if key.is_some_and(|k| k.generated.is_some()) && !fields.iter().any(|f| f.unique.is_some()) {
        cx.error_spanned_by(
            upsert,
            format!(
                "`upsert` has nothing to conflict on: the key `{}` is generated and no field is unique; mark a field #[expose(unique)]",
                key.expect("checked").ident
            ),
        );
    }
}

/// Refuses options that do not apply to the operation (those of `all(...)` apply where
/// they can and are left out elsewhere).
fn check_op_options(cx: &Ctxt, kind: OperationKind, op: &Op) {
    use OperationKind::{Create, List, Remove, Replace, Retrieve, Update};
    fn tok<T: ToTokens>(t: &Option<T>) -> Option<&dyn ToTokens> {
        t.as_ref().map(|t| t as &dyn ToTokens)
    }
    const LIST: &[OperationKind] = &[List];
    const FILTERED: &[OperationKind] = &[List, Update, Remove];
    const ROWS: &[OperationKind] = &[List, Retrieve, Update, Remove, Replace];
    const COLLECTION_WRITES: &[OperationKind] = &[Update, Remove];
    const ITEM_WRITES: &[OperationKind] = &[Update, Remove, Replace];
    const BODY: &[OperationKind] = &[Create, Update, Replace];
    const CREATE: &[OperationKind] = &[Create];
    const READS: &[OperationKind] = &[List, Retrieve];
    // A create's scope checks its new rows (`WITH CHECK`).
    const SCOPED: &[OperationKind] = &[List, Retrieve, Create, Update, Remove, Replace];
    let mut options: Vec<(&str, Option<&dyn ToTokens>, &[OperationKind])> = vec![
        ("filter", tok(&op.filter), FILTERED),
        ("sort", tok(&op.sort), LIST),
        ("order", tok(&op.order), LIST),
        ("fixed_order", tok(&op.fixed_order), LIST),
        ("limit", tok(&op.limit), LIST),
        ("max_limit", tok(&op.max_limit), LIST),
        ("fixed_limit", tok(&op.fixed_limit), LIST),
        ("max_conditions", tok(&op.max_conditions), LIST),
        ("max_depth", tok(&op.max_depth), LIST),
        ("max_in", tok(&op.max_in), LIST),
    ];
    options.extend(op.wheres.iter().map(|w| ("where", Some(w as _), ROWS)));
    options.extend([
        ("require_if_match", tok(&op.require_if_match), ITEM_WRITES),
        ("scope", tok(&op.scope), SCOPED),
    ]);
    options.extend(op.force.iter().map(|(field, _, overwrite)| {
        let name = if *overwrite { "overwrite" } else { "force" };
        (name, Some(field as _), BODY)
    }));
    options.extend([
        ("max_rows", tok(&op.max_rows), CREATE),
        ("upsert", tok(&op.upsert), CREATE),
        ("max_affected", tok(&op.max_affected), COLLECTION_WRITES),
        ("unfiltered", tok(&op.unfiltered), COLLECTION_WRITES),
        (
            "embed",
            op.embed.as_ref().map(|(i, _)| i as &dyn ToTokens),
            READS,
        ),
        ("embed_depth", tok(&op.embed_depth), READS),
        ("embed_rows", tok(&op.embed_rows), READS),
    ]);
    for (name, tok, applies) in options {
        let Some(tok) = tok.filter(|_| !applies.contains(&kind)) else {
            continue;
        };
        let names: Vec<&str> = applies.iter().map(|k| k.name()).collect();
        let to = match names.as_slice() {
            [one] => format!("`{one}` only"),
            _ => and_list(&names.iter().map(|n| n.to_string()).collect::<Vec<_>>()),
        };
        cx.error_spanned_by(
            tok,
            format!("`{name}` applies to {to}, not `{}`", kind.name()),
        );
    }
    if kind == Remove {
        if let Some(f) = &op.fields {
            cx.error_spanned_by(f, "`remove` takes no `fields`: it deletes a whole row");
        }
        if let Some(f) = &op.fields_for {
            cx.error_spanned_by(
                f,
                "`fields_for` does not apply to `remove`: it deletes a whole row",
            );
        }
    }
}

/// Resolves one name to a field, with a suggestion when it is not one.
fn resolve<'f>(cx: &Ctxt, fields: &'f [Field], name: &str, lit: &LitStr) -> Option<&'f Field> {
    let found = fields.iter().find(|f| f.ident_str() == name);
    if found.is_none() {
        cx.error_spanned_by(
            lit,
            format!(
                "`{name}` is not a field of this struct{}",
                did_you_mean(
                    name,
                    fields
                        .iter()
                        .map(|f| f.ident_str())
                        .collect::<Vec<_>>()
                        .iter()
                        .map(String::as_str)
                )
            ),
        );
    }
    found
}

/// Parses `"a,b"` / `"-a,-b"` / `"a,-b"`: includes if any, minus excludes.
fn field_list(cx: &Ctxt, lit: &LitStr, fields: &[Field], base: &[&Field]) -> Vec<String> {
    let text = lit.value();
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            cx.error_spanned_by(lit, "empty name in field list; write names separated by commas, like \"name,email\" or \"-password\"");
            continue;
        }
        let (neg, name) = match item.strip_prefix('-') {
            Some(n) => (true, n.trim()),
            None => (false, item),
        };
        if let Some(f) = resolve(cx, fields, name, lit) {
            let (this, other) = if neg {
                (&mut exclude, &include)
            } else {
                (&mut include, &exclude)
            };
            if other.contains(&f.ident_str()) {
                cx.error_spanned_by(
                    lit,
                    format!("`{name}` is listed both included and excluded; keep one"),
                );
            } else if this.contains(&f.ident_str()) {
                cx.error_spanned_by(lit, format!("`{name}` is listed twice"));
            } else {
                this.push(f.ident_str());
            }
        }
    }
    let start: Vec<&Field> = if include.is_empty() {
        base.to_vec()
    } else {
        fields
            .iter()
            .filter(|f| include.contains(&f.ident_str()))
            .collect()
    };
    start
        .into_iter()
        .filter(|f| !exclude.contains(&f.ident_str()))
        .map(Field::ident_str)
        .collect()
}

/// A checked integer option: at least 1, because 0 would refuse or return nothing.
fn int(cx: &Ctxt, name: &str, lit: Option<&LitInt>) -> Option<u64> {
    let lit = lit?;
    match lit.base10_parse::<u64>() {
        Ok(0) => {
            cx.error_spanned_by(
                lit,
                format!("`{name}` must be at least 1; remove it to use the default"),
            );
            None
        }
        Ok(v) => Some(v),
        Err(e) => {
            cx.syn_error(e);
            None
        }
    }
}

/// An integer option of the operation, else of `all(...)`.
fn int_of(cx: &Ctxt, name: &str, op: Option<&LitInt>, all: Option<&LitInt>) -> Option<u64> {
    int(cx, name, op).or_else(|| int(cx, name, all))
}

/// Checks one operation, with `all(...)` merged in; `model_readable` is what some read
/// returns (for the filters of a collection write).
fn checked_op(
    cx: &Ctxt,
    kind: OperationKind,
    op: &Op,
    all: &Op,
    fields: &[Field],
    model_readable: &Readable,
) -> CheckedOp {
    use OperationKind::{Create, List, Remove, Replace, Update};
    let pick = |a: &Option<LitStr>, b: &Option<LitStr>| a.clone().or_else(|| b.clone());
    let is_key = |f: &Field| is_key(f, fields);
    let base: Vec<&Field> = match kind {
        Create => fields
            .iter()
            .filter(|f| f.generated.is_none() && f.version.is_none())
            .collect(),
        Update | Replace => fields
            .iter()
            .filter(|f| f.generated.is_none() && f.version.is_none() && !is_key(f))
            .collect(),
        _ => fields.iter().collect(),
    };
    let mut list = match (&op.fields, &all.fields) {
        (Some(own), _) => {
            let l = field_list(cx, own, fields, &base);
            if kind.takes_body() {
                for f in fields.iter().filter(|f| l.contains(&f.ident_str())) {
                    if f.version.is_some() {
                        cx.error_spanned_by(
                            own,
                            format!("`{}` is the version field, which the server bumps; remove it from `{}` fields", f.ident, kind.name()),
                        );
                    }
                    if f.generated.is_some() {
                        cx.error_spanned_by(
                            own,
                            format!("`{}` is generated by the database and cannot be written; remove it from `{}` fields", f.ident, kind.name()),
                        );
                    }
                }
            }
            l
        }
        (None, Some(shared)) => {
            let l = field_list(cx, shared, fields, &base);
            l.into_iter()
                .filter(|n| base.iter().any(|f| f.ident_str() == *n))
                .collect()
        }
        (None, None) => base.iter().map(|f| f.ident_str()).collect(),
    };
    if kind == Remove {
        list.clear();
    }
    let readable: Vec<String> = if kind.takes_body() || kind == Remove {
        Vec::new()
    } else {
        let mut r = list.clone();
        if let Some(k) = fields.iter().find(|f| is_key(f)) {
            if !r.contains(&k.ident_str()) {
                r.push(k.ident_str());
            }
        }
        r
    };
    let readable_fields: Vec<&Field> = fields
        .iter()
        .filter(|f| readable.contains(&f.ident_str()))
        .collect();
    let sub_list = |lit: Option<LitStr>, what: &str| -> Option<Vec<String>> {
        let lit = lit?;
        let l = field_list(cx, &lit, fields, &readable_fields);
        for n in &l {
            if !readable.contains(n) {
                cx.error_spanned_by(
                    &lit,
                    format!("`{n}` is not readable in `{}`, so it cannot be {what}; add it to `fields` or remove it here", kind.name()),
                );
            }
        }
        Some(l)
    };
    let (filterable, sortable) = match kind {
        List => (
            sub_list(pick(&op.filter, &all.filter), "filtered on"),
            sub_list(pick(&op.sort, &all.sort), "sorted on").inspect(|l| {
                let lit = pick(&op.sort, &all.sort);
                for f in fields.iter().filter(|f| l.contains(&f.ident_str())) {
                    refuse_unordered(cx, lit.as_ref(), f, "`sort`");
                }
            }),
        ),
        // A collection write's filters are its own: `all(filter = ...)` stays the list's.
        Update | Remove => (
            op.filter
                .as_ref()
                .map(|lit| write_filter(cx, kind, lit, fields, model_readable)),
            None,
        ),
        _ => (None, None),
    };
    let (order, fixed_order) = match (
        pick(&op.fixed_order, &all.fixed_order),
        pick(&op.order, &all.order),
    ) {
        (Some(f), Some(o)) if kind == List => {
            cx.error_spanned_by(&o, "give either `order` or `fixed_order`, not both");
            (Some(f), true)
        }
        (Some(f), _) => (Some(f), true),
        (None, o) => (o, false),
    };
    let order = if kind == List { order } else { None };
    if let Some(o) = &order {
        check_order(cx, o, fields, &readable);
    }
    let wheres: Vec<LitStr> = if kind == Create {
        Vec::new()
    } else {
        all.wheres.iter().chain(&op.wheres).cloned().collect()
    };
    // Those of `all(...)` are checked once, by `check`.
    for w in &op.wheres {
        check_where(cx, w, fields);
    }
    let (fixed, limit, max_limit) = if kind == List {
        let fixed = int_of(
            cx,
            "fixed_limit",
            op.fixed_limit.as_ref(),
            all.fixed_limit.as_ref(),
        );
        let limit = int_of(cx, "limit", op.limit.as_ref(), all.limit.as_ref());
        let max = int_of(
            cx,
            "max_limit",
            op.max_limit.as_ref(),
            all.max_limit.as_ref(),
        );
        (fixed, fixed.or(limit), fixed.or(max))
    } else {
        (None, None, None)
    };
    if kind == List {
        let effective_max = max_limit.unwrap_or(expose_core::defaults::MAX_LIMIT);
        if let Some(l) = limit.filter(|l| *l > effective_max) {
            let tok = op.limit.as_ref().or(all.limit.as_ref());
            if let Some(tok) = tok {
                cx.error_spanned_by(tok, format!("default `limit` {l} is above `max_limit` {effective_max}; raise `max_limit` or lower `limit`"));
            }
        }
    }
    let list_int = |name: &str, a: Option<&LitInt>, b: Option<&LitInt>| {
        if kind == List {
            int_of(cx, name, a, b)
        } else {
            None
        }
    };
    CheckedOp {
        kind,
        fields: if kind.takes_body() { list } else { readable },
        filterable,
        sortable,
        order: order.map(|o| o.value()),
        fixed_order,
        wheres: wheres.iter().map(LitStr::value).collect(),
        limit,
        max_limit,
        fixed_limit: fixed.is_some(),
        max_conditions: list_int(
            "max_conditions",
            op.max_conditions.as_ref(),
            all.max_conditions.as_ref(),
        ),
        max_depth: list_int("max_depth", op.max_depth.as_ref(), all.max_depth.as_ref()),
        max_in: list_int("max_in", op.max_in.as_ref(), all.max_in.as_ref()),
        pre: all.pre.iter().chain(&op.pre).cloned().collect(),
        post: all.post.iter().chain(&op.post).cloned().collect(),
        scope: op.scope.clone().or_else(|| all.scope.clone()),
        fields_for: if kind == Remove {
            None
        } else {
            op.fields_for.clone().or_else(|| all.fields_for.clone())
        },
        force: if kind.takes_body() {
            forced(cx, fields, all, op)
        } else {
            Vec::new()
        },
        require_if_match: matches!(kind, Update | Remove | Replace)
            && (op.require_if_match.is_some() || all.require_if_match.is_some()),
        max_rows: match kind {
            Create => int_of(cx, "max_rows", op.max_rows.as_ref(), all.max_rows.as_ref()),
            _ => None,
        },
        upsert: kind == Create && (op.upsert.is_some() || all.upsert.is_some()),
        max_affected: match kind {
            Update | Remove => int_of(
                cx,
                "max_affected",
                op.max_affected.as_ref(),
                all.max_affected.as_ref(),
            ),
            _ => None,
        },
        unfiltered: matches!(kind, Update | Remove)
            && (op.unfiltered.is_some() || all.unfiltered.is_some()),
        embed: match kind {
            List | OperationKind::Retrieve => embed_models(cx, op, all),
            _ => Vec::new(),
        },
        embed_depth: match kind {
            List | OperationKind::Retrieve => {
                let d = int_of(
                    cx,
                    "embed_depth",
                    op.embed_depth.as_ref(),
                    all.embed_depth.as_ref(),
                );
                if let (Some(0), Some(tok)) =
                    (d, op.embed_depth.as_ref().or(all.embed_depth.as_ref()))
                {
                    cx.error_spanned_by(
                        tok,
                        "`embed_depth` must be at least 1; leave out `embed` to allow no embedding",
                    );
                }
                d
            }
            _ => None,
        },
        embed_rows: match kind {
            List | OperationKind::Retrieve => {
                let n = int_of(
                    cx,
                    "embed_rows",
                    op.embed_rows.as_ref(),
                    all.embed_rows.as_ref(),
                );
                if let (Some(0), Some(tok)) =
                    (n, op.embed_rows.as_ref().or(all.embed_rows.as_ref()))
                {
                    cx.error_spanned_by(tok, "`embed_rows` must be at least 1");
                }
                n
            }
            _ => None,
        },
    }
}

/// The models of `embed(...)`: the operation's own, else those of `all(...)`; each once
/// (a model may be embedded directly and through a join model, or through two).
fn embed_models(cx: &Ctxt, op: &Op, all: &Op) -> Vec<EmbedModel> {
    let Some((_, models)) = op.embed.as_ref().or(all.embed.as_ref()) else {
        return Vec::new();
    };
    let same = |a: &EmbedModel, b: &EmbedModel| a.model == b.model && a.through == b.through;
    let mut seen: Vec<&EmbedModel> = Vec::new();
    for m in models {
        if seen.iter().any(|s| same(s, m)) {
            cx.error_spanned_by(&m.model, "this model is already in `embed`; give it once");
        } else {
            if let Some(j) = &m.through {
                if *j == m.model {
                    cx.error_spanned_by(
                        j,
                        "a model cannot be its own join model; name the model whose rows reference both sides, like embed(Tag(through = PostTag))",
                    );
                }
            }
            seen.push(m);
        }
    }
    if models.is_empty() {
        if let Some((i, _)) = op.embed.as_ref().or(all.embed.as_ref()) {
            cx.error_spanned_by(
                i,
                "`embed` lists no model; write embed(User, ...) or leave it out",
            );
        }
    }
    seen.into_iter().cloned().collect()
}

/// The fields a client may filter on in a collection update or remove: each must be
/// returned by some read, or a filter would tell a hidden value by what it matches.
fn write_filter(
    cx: &Ctxt,
    kind: OperationKind,
    lit: &LitStr,
    fields: &[Field],
    readable: &Readable,
) -> Vec<String> {
    let base: Vec<&Field> = fields
        .iter()
        .filter(|f| readable.fields.contains(&f.ident_str()))
        .collect();
    let l = field_list(cx, lit, fields, &base);
    for n in l.iter().filter(|n| !readable.fields.contains(n)) {
        cx.error_spanned_by(
            lit,
            format!(
                "`{n}` is not readable ({}), so it cannot be filtered on in `{}`; {}, or remove it here",
                readable.why_not,
                kind.name(),
                readable.fix
            ),
        );
    }
    l
}

/// The forced fields of a write: those of `all(...)`, then the operation's (which win).
fn forced(
    cx: &Ctxt,
    fields: &[Field],
    all: &Op,
    op: &Op,
) -> Vec<(syn::Ident, syn::Type, syn::Path, bool)> {
    let mut out: Vec<(syn::Ident, syn::Type, syn::Path, bool)> = Vec::new();
    for (field, path, overwrite) in all.force.iter().chain(&op.force) {
        let Some(f) = fields.iter().find(|f| f.ident == *field) else {
            cx.error_spanned_by(
                field,
                format!(
                    "`{field}` is not a field of this struct{}",
                    did_you_mean(
                        &field.to_string(),
                        fields
                            .iter()
                            .map(|f| f.ident_str())
                            .collect::<Vec<_>>()
                            .iter()
                            .map(String::as_str)
                    )
                ),
            );
            continue;
        };
        if f.generated.is_some() {
            cx.error_spanned_by(
                field,
                format!("`{field}` is generated by the database and cannot be forced"),
            );
            continue;
        }
        out.retain(|(g, ..)| g != field);
        out.push((field.clone(), f.ty.clone(), path.clone(), *overwrite));
    }
    out
}

/// Checks `order` / `fixed_order` as the runtime reads it at router build (`compile_order`
/// in expose-runtime's `query/plan.rs`, with `grammar::parse_order`): the syntax, then each
/// term's field, which must be readable.
fn check_order(cx: &Ctxt, lit: &LitStr, fields: &[Field], readable: &[String]) {
    let terms = match grammar::parse_order(&lit.value()) {
        Ok(terms) => terms,
        Err(e) => return syntax_error(cx, lit, e),
    };
    for t in &terms {
        if let Some(f) = resolve(cx, fields, &t.field, lit) {
            refuse_unordered(cx, Some(lit), f, "`order`");
            if !readable.contains(&f.ident_str()) {
                cx.error_spanned_by(
                    lit,
                    format!("`{}` is not readable, so it cannot order the list", t.field),
                );
            }
        }
    }
}

/// Refuses an array field in `sort` or `order`: arrays have no order that every backend
/// shares (PostgreSQL compares arrays, elsewhere they are JSON text).
fn refuse_unordered(cx: &Ctxt, lit: Option<&LitStr>, f: &Field, place: &str) {
    if let (Kind::Array(_), Some(lit)) = (kind_of(&f.ty), lit) {
        cx.error_spanned_by(
            lit,
            format!(
                "`{}` is an array field, which has no order on every backend; remove it from {place}",
                f.ident_str()
            ),
        );
    }
}

/// Checks a forced filter as the runtime reads it at router build (`compile_forced`, with
/// the same [`grammar::parse_where`]): the syntax, then every condition's field, operator
/// and values against the struct.
fn check_where(cx: &Ctxt, lit: &LitStr, fields: &[Field]) {
    match grammar::parse_where(&lit.value(), expose_core::defaults::WHERE_MAX_DEPTH) {
        Ok(expr) => check_expr(cx, lit, &expr, fields),
        Err(e) => syntax_error(cx, lit, e),
    }
}

/// Reports the grammar's message at the literal, with the nearest known word when the
/// error is about a misspelt operator, `is` value or order modifier.
fn syntax_error(cx: &Ctxt, lit: &LitStr, e: grammar::SyntaxError) {
    let hint = e
        .unknown
        .as_ref()
        .map(|u| did_you_mean(u.word(), u.candidates()))
        .unwrap_or_default();
    cx.error_spanned_by(lit, format!("{}{hint}", e.message));
}

fn check_expr(cx: &Ctxt, lit: &LitStr, expr: &Expr, fields: &[Field]) {
    match expr {
        Expr::Cond(c) => check_condition(cx, lit, c, fields),
        Expr::And(items) | Expr::Or(items) => {
            for item in items {
                check_expr(cx, lit, item, fields);
            }
        }
        Expr::Not(inner) => check_expr(cx, lit, inner, fields),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Why an operator (or, with `is`, an `is` value) does not apply to a class: what the class
/// takes instead, read off the grammar's operator table.
fn not_applicable_hint(class: TypeClass, is: bool, containment: bool) -> String {
    let ops = |keep: &dyn Fn(grammar::Op) -> bool| -> Vec<String> {
        let ops = grammar::Op::ALL.into_iter().filter(|op| keep(*op));
        ops.map(|op| op.as_str().to_owned()).collect()
    };
    let is_values = |keep: &dyn Fn(IsValue) -> bool| -> Vec<String> {
        let values = IsValue::ALL.into_iter().filter(|v| keep(*v));
        values.map(|v| format!("is.{}", v.as_str())).collect()
    };
    match class {
        TypeClass::Json | TypeClass::Array => {
            let mut words: Vec<String> = ops(&|op| op.applies_to(class) && op.is_containment())
                .into_iter()
                .map(|op| format!("`{op}`"))
                .collect();
            words.extend(is_values(&|v| v.applies_to(class)).iter().map(|v| format!("`{v}`")));
            let what = if class == TypeClass::Json { "JSON" } else { "array" };
            format!("{what} fields can only be tested with {}", words.join(", "))
        }
        _ if containment => format!(
            "{} apply to array (`Vec<T>`) fields, and `cs` and `cd` to JSON (`serde_json::Value`) fields, only",
            and_list(&ops(&grammar::Op::is_containment))
        ),
        TypeClass::Bool => format!(
            "true/false fields take {}",
            and_list(&ops(&|op| op.applies_to(class)))
        ),
        _ if is => format!(
            "only true/false fields take {}",
            and_list(&is_values(&IsValue::is_boolean))
        ),
        _ => format!(
            "{} apply to String fields only",
            and_list(&ops(&grammar::Op::is_pattern))
        ),
    }
}

/// Checks one condition of a `where` filter against the struct, as `type_cond` in the
/// runtime will: the field exists, the operator (and `is` value) applies to its type, and
/// each value parses as that type.
fn check_condition(cx: &Ctxt, lit: &LitStr, c: &grammar::Condition, fields: &[Field]) {
    let Some(f) = resolve(cx, fields, &c.field, lit) else {
        return;
    };
    let kind = kind_of(&f.ty);
    let Some(class) = kind.class() else {
        return;
    };
    let (name, op) = (&c.field, c.op.as_str());
    let ty = || f.ty.to_token_stream().to_string().replace(' ', "");
    if !c.op.applies_to(class) {
        cx.error_spanned_by(
            lit,
            format!(
                "operator `{op}` is not supported by `{name}` of type `{}`: {}",
                ty(),
                not_applicable_hint(class, false, c.op.is_containment())
            ),
        );
        return;
    }
    let values: &[String] = match &c.operand {
        Operand::Is(v) => {
            if !v.applies_to(class) {
                cx.error_spanned_by(
                    lit,
                    format!(
                        "`is.{}` is not supported by `{name}` of type `{}`: {}",
                        v.as_str(),
                        ty(),
                        not_applicable_hint(class, true, false)
                    ),
                );
            }
            return;
        }
        Operand::Scalar(v) => std::slice::from_ref(v),
        Operand::List(items) => items,
    };
    for v in values {
        if let Err(expected) = kind.check_value(v) {
            cx.error_spanned_by(
                lit,
                format!("`{v}` is not a valid value for `{name}` with `{op}`: expected {expected}"),
            );
        }
    }
}

impl Field {
    pub(crate) fn ident_str(&self) -> String {
        let s = self.ident.to_string();
        s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
    }
}

/// Checks a field's `validate(...)` rules against its type, where the type is one this check
/// knows (the runtime's `Field::rules` refuses the rest when the model is evaluated): each
/// rule fits the type, its bounds fit the type and each other, a pattern compiles.
fn check_rules(cx: &Ctxt, f: &Field) {
    let Some(first) = f.rules.first() else {
        return;
    };
    let name = f.ident_str();
    if f.generated.is_some() || f.version.is_some() {
        let why = if f.generated.is_some() {
            "generated by the database"
        } else {
            "the version field, which the server bumps"
        };
        cx.error_spanned_by(
            &first.ident,
            format!("`{name}` is {why} and never written by clients, so its rules would never apply; remove `validate`"),
        );
        return;
    }
    let kind = kind_of(&f.ty);
    if kind == Kind::Other {
        return;
    }
    let ty = f.ty.to_token_stream().to_string().replace(' ', "");
    let int = matches!(kind, Kind::I16 | Kind::I32 | Kind::I64);
    let number = int || matches!(kind, Kind::F32 | Kind::F64);
    let (lo, hi): (i128, i128) = match kind {
        Kind::I16 => (i16::MIN.into(), i16::MAX.into()),
        Kind::I32 => (i32::MIN.into(), i32::MAX.into()),
        _ => (i64::MIN.into(), i64::MAX.into()),
    };
    for rule in &f.rules {
        let r = rule.ident.to_string();
        let misfit = |applies: &str, hint: &str| {
            cx.error_spanned_by(
                &rule.ident,
                format!("`{r}` applies to {applies}, and `{name}` is `{ty}`{hint}"),
            );
        };
        match &rule.kind {
            RuleKind::Length { .. }
            | RuleKind::NonEmpty
            | RuleKind::Email
            | RuleKind::Url
            | RuleKind::Pattern(_)
                if kind != Kind::Text =>
            {
                let hint = if number {
                    "; bound a number with range(min = ..., max = ...)"
                } else {
                    ""
                };
                misfit("String fields", hint);
            }
            RuleKind::Range { .. } if !number => {
                let hint = if kind == Kind::Text {
                    "; bound a string's length with length(min = ..., max = ...)"
                } else {
                    ""
                };
                misfit("number fields (i16, i32, i64, f32, f64)", hint);
            }
            RuleKind::OneOf(_) if kind != Kind::Text && !int => {
                misfit("String and integer fields", "");
            }
            RuleKind::Length { min, max } => {
                let parse = |l: &Option<syn::LitInt>| -> Option<u64> {
                    let l = l.as_ref()?;
                    l.base10_parse::<u64>()
                        .map_err(|_| {
                            cx.error_spanned_by(
                                l,
                                "a length is a whole number of characters from 0",
                            )
                        })
                        .ok()
                };
                let (a, b) = (parse(min), parse(max));
                if min.is_none() && max.is_none() {
                    cx.error_spanned_by(
                        &rule.ident,
                        "`length` needs a bound: length(min = 1), length(max = 100) or both",
                    );
                }
                if let (Some(a), Some(b), Some(tok)) = (a, b, max.as_ref()) {
                    if a > b {
                        cx.error_spanned_by(
                            tok,
                            format!("`max` {b} is below `min` {a}; no value could pass"),
                        );
                    }
                }
            }
            RuleKind::Range { min, max } => {
                if min.is_none() && max.is_none() {
                    cx.error_spanned_by(
                        &rule.ident,
                        "`range` needs a bound: range(min = 0), range(max = 150) or both",
                    );
                }
                for (n, e) in [min, max].into_iter().flatten().map(|b| &**b) {
                    match n {
                        NumLit::Float(_) if int => cx.error_spanned_by(
                            e,
                            format!("`{name}` is `{ty}`: write its bounds as whole numbers"),
                        ),
                        NumLit::Int(i) if int && (*i < lo || *i > hi) => cx.error_spanned_by(
                            e,
                            format!("{i} does not fit `{name}` of type `{ty}` (from {lo} to {hi})"),
                        ),
                        NumLit::Int(i) if *i < i64::MIN.into() || *i > i64::MAX.into() => {
                            cx.error_spanned_by(e, "a bound must fit an i64")
                        }
                        NumLit::Float(x) if !x.is_finite() => {
                            cx.error_spanned_by(e, "a bound must be finite")
                        }
                        _ => {}
                    }
                }
                let value = |n: &NumLit| match n {
                    NumLit::Int(i) => *i as f64,
                    NumLit::Float(x) => *x,
                };
                if let (Some(a), Some(b)) = (min, max) {
                    let ((a, _), (b, e)) = (&**a, &**b);
                    if value(a) > value(b) {
                        cx.error_spanned_by(e, "`max` is below `min`; no value could pass");
                    }
                }
            }
            RuleKind::Pattern(lit) => {
                if let Err(e) = regex::Regex::new(&lit.value()) {
                    let e = e.to_string();
                    let last = e.lines().last().unwrap_or("").trim();
                    let last = last.strip_prefix("error: ").unwrap_or(last);
                    cx.error_spanned_by(lit, format!("invalid pattern: {last}"));
                }
            }
            RuleKind::OneOf(choices) => {
                if choices.is_empty() {
                    cx.error_spanned_by(
                        &rule.ident,
                        "`one_of` needs at least one value, like one_of(\"a\", \"b\")",
                    );
                }
                for (c, e) in choices {
                    match c {
                        ChoiceLit::Text(_) if kind == Kind::Text => {}
                        ChoiceLit::Int(i) if int && *i >= lo && *i <= hi => {}
                        ChoiceLit::Int(i) if int => cx.error_spanned_by(
                            e,
                            format!("{i} does not fit `{name}` of type `{ty}` (from {lo} to {hi})"),
                        ),
                        _ if kind == Kind::Text => cx.error_spanned_by(
                            e,
                            format!("`{name}` is a String: list string literals, like one_of(\"a\", \"b\")"),
                        ),
                        _ => cx.error_spanned_by(
                            e,
                            format!("`{name}` is `{ty}`: list integer literals, like one_of(1, 2, 3)"),
                        ),
                    }
                }
            }
            _ => {}
        }
    }
}

/// A checked `action(...)`: its route and the update it runs (options merged with `all`).
pub(crate) struct CheckedAction {
    pub(crate) func: syn::Path,
    /// The URL segment: the function's name.
    pub(crate) name: String,
    pub(crate) method: String,
    pub(crate) doc: String,
    pub(crate) op: CheckedOp,
}

/// The methods an action may use: it writes, so not `GET` or `HEAD`.
const ACTION_METHODS: &[&str] = &["POST", "PUT", "PATCH", "DELETE"];

/// Checks the declared actions: a method that writes, one action per name; each runs as an
/// update with the action's scope (else `all`'s), `all`'s `where`, and its hooks after
/// `all`'s.
pub(crate) fn check_actions(cx: &Ctxt, attr: &Attr) -> Vec<CheckedAction> {
    let mut out: Vec<CheckedAction> = Vec::new();
    for a in &attr.actions {
        let last = a.func.segments.last().expect("a path has a segment");
        let name = last.ident.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
        if out.iter().any(|o| o.name == name) {
            cx.error_spanned_by(
                &a.func,
                format!("a second action named `{name}`: each action's function names its route (`/{{id}}/{name}`); declare it once"),
            );
            continue;
        }
        let method = match &a.method {
            None => "POST".to_owned(),
            Some(m) => {
                let v = m.value();
                let upper = v.to_ascii_uppercase();
                if ACTION_METHODS.contains(&upper.as_str()) && upper == v {
                    v
                } else {
                    let why = if ACTION_METHODS.contains(&upper.as_str()) {
                        format!("write the method in capitals: method = \"{upper}\"")
                    } else if matches!(upper.as_str(), "GET" | "HEAD") {
                        "an action writes, so it takes POST, PUT, PATCH or DELETE; a read is the retrieve, or a custom route over `Type::endpoints()`".to_owned()
                    } else {
                        format!("unknown action method `{v}`: use POST (the default), PUT, PATCH or DELETE")
                    };
                    cx.error_spanned_by(m, why);
                    continue;
                }
            }
        };
        let op = CheckedOp {
            kind: OperationKind::Update,
            fields: Vec::new(),
            filterable: None,
            sortable: None,
            order: None,
            fixed_order: false,
            wheres: attr.all.wheres.iter().map(LitStr::value).collect(),
            limit: None,
            max_limit: None,
            fixed_limit: false,
            max_conditions: None,
            max_depth: None,
            max_in: None,
            pre: attr.all.pre.iter().chain(&a.pre).cloned().collect(),
            post: attr.all.post.iter().chain(&a.post).cloned().collect(),
            scope: a.scope.clone().or_else(|| attr.all.scope.clone()),
            fields_for: None,
            force: Vec::new(),
            require_if_match: a.require_if_match.is_some() || attr.all.require_if_match.is_some(),
            max_rows: None,
            upsert: false,
            max_affected: None,
            unfiltered: false,
            embed: Vec::new(),
            embed_depth: None,
            embed_rows: None,
        };
        out.push(CheckedAction {
            func: a.func.clone(),
            name,
            method,
            doc: a.doc.as_ref().map(LitStr::value).unwrap_or_default(),
            op,
        });
    }
    out
}
