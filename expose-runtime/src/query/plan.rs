//! From parsed syntax to a checked, typed plan: every field name is resolved against the
//! policy, every value typed by its field; nothing unchecked reaches the SQL builder.

use super::embed::{self, AccessFn, EmbedPlan, NullTest};
use super::grammar::{self, Expr, Op, Select, TypeClass};
use crate::field::FieldSet;
use crate::field_type::FieldType;
pub(crate) use crate::filter::{Column, Cond, Filter, Operand, OrderKey};
use crate::problem::Problem;
use crate::schema::{Policy, Schema};
use crate::value::Value;

/// A checked list request.
#[derive(Debug)]
pub(crate) struct ListPlan {
    pub(crate) columns: Vec<Column>,
    pub(crate) filters: Vec<Filter>,
    pub(crate) order: Vec<OrderKey>,
    pub(crate) limit: u64,
    pub(crate) offset: u64,
    /// The embedded resources of `select`.
    pub(crate) embeds: Vec<EmbedPlan>,
}

/// Whether names in a policy string are Rust identifiers or API names.
#[derive(Clone, Copy)]
pub(super) enum Names {
    Ident,
    Api,
}

fn resolve(res: &Schema, names: Names, name: &str) -> Option<usize> {
    match names {
        Names::Ident => res.by_ident(name),
        Names::Api => res.by_name(name),
    }
}

fn syntax(e: grammar::SyntaxError) -> Problem {
    Problem::invalid_parameter(e.param, e.message)
}

/// Pre-decodes a raw query string into owned pairs.
pub(crate) fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// Parses a policy's order string (Rust identifiers).
pub(crate) fn compile_order(res: &Schema, order: &str) -> Result<Vec<OrderKey>, String> {
    let terms = grammar::parse_order(order).map_err(|e| e.message)?;
    terms
        .into_iter()
        .map(|t| {
            let field = res
                .by_ident(&t.field)
                .ok_or_else(|| format!("unknown field {}", t.field))?;
            Ok(order_key(field, &t))
        })
        .collect()
}

/// Parses a policy's forced filter (Rust identifiers, `field.op.value`).
pub(crate) fn compile_forced(res: &Schema, filter: &str) -> Result<Filter, String> {
    let expr = grammar::parse_where(filter, expose_core::defaults::WHERE_MAX_DEPTH)
        .map_err(|e| e.message)?;
    let all = FieldSet(u64::MAX >> (64 - res.model.fields.len()));
    type_expr(res, all, Names::Ident, "filter", expr).map_err(|p| p.detail().to_owned())
}

pub(super) fn order_key(field: usize, t: &grammar::OrderTerm) -> OrderKey {
    OrderKey {
        field,
        desc: t.descending,
        // PostgreSQL's default, made explicit so every backend orders nulls alike.
        nulls_first: match t.nulls {
            Some(grammar::Nulls::First) => true,
            Some(grammar::Nulls::Last) => false,
            None => t.descending,
        },
    }
}

pub(super) fn type_expr(
    res: &Schema,
    allowed: FieldSet,
    names: Names,
    param: &str,
    expr: Expr,
) -> Result<Filter, Problem> {
    let many = |v: Vec<Expr>| -> Result<Vec<Filter>, Problem> {
        v.into_iter()
            .map(|e| type_expr(res, allowed, names, param, e))
            .collect()
    };
    Ok(match expr {
        Expr::Cond(c) => Filter::Cond(type_cond(res, allowed, names, param, c)?),
        Expr::And(v) => Filter::And(many(v)?),
        Expr::Or(v) => Filter::Or(many(v)?),
        Expr::Not(e) => Filter::Not(Box::new(type_expr(res, allowed, names, param, *e)?)),
    })
}

fn type_cond(
    res: &Schema,
    allowed: FieldSet,
    names: Names,
    param: &str,
    c: grammar::Condition,
) -> Result<Cond, Problem> {
    // Where the condition is, for a refusal's detail (written only then).
    let where_ = || {
        if param == c.field {
            format!("`{}`", c.field)
        } else {
            format!("`{}` in `{param}`", c.field)
        }
    };
    let field = resolve(res, names, &c.field)
        .filter(|i| allowed.contains(*i))
        .ok_or_else(|| {
            Problem::invalid_parameter(
                param,
                format!(
                    "{} is not a field you can filter on; filterable fields: {}",
                    where_(),
                    res.names(allowed)
                ),
            )
        })?;
    let ty = res.ty(field);
    let refuse = |what: String| Problem::invalid_parameter(param, format!("{}: {what}", where_()));
    let typed = |s: &str| {
        Value::parse_filter(ty, s).map_err(|e| refuse(format!("`{s}` is not valid: {}", e.0)))
    };
    // Which operator (and `is` value) fits which type: the grammar's one table.
    let class = ty.class();
    if !c.op.applies_to(class) {
        let op = c.op.as_str();
        return Err(refuse(if c.op.is_pattern() {
            format!("`{op}` applies to text fields only")
        } else if class == TypeClass::Json {
            "JSON fields can only be tested with `cs`, `cd` and `is`".into()
        } else if class == TypeClass::Array {
            format!("`{op}` does not apply to array fields; use cs, cd, ov or is")
        } else if c.op == Op::Ov {
            "`ov` applies to array fields only".into()
        } else if c.op.is_containment() {
            format!("`{op}` applies to array and JSON fields only")
        } else if let FieldType::Enum(names) = ty {
            format!(
                "`{op}` does not apply to a field of fixed values ({}); use eq, neq or in",
                crate::value::enum_names(names)
            )
        } else {
            format!("`{op}` does not apply to true/false fields")
        }));
    }
    let operand = match (c.op, c.operand) {
        (Op::Is, grammar::Operand::Is(v)) => {
            if !v.applies_to(class) {
                return Err(refuse(format!(
                    "`is.{}` applies to true/false fields only; use is.null or is.not_null",
                    v.as_str()
                )));
            }
            Operand::Is(v)
        }
        (Op::In, grammar::Operand::List(items)) => {
            Operand::Many(items.iter().map(|s| typed(s)).collect::<Result<_, _>>()?)
        }
        (Op::Like | Op::Ilike, grammar::Operand::Scalar(s)) => {
            // A pattern ending in an unpaired `\` (an escape of nothing, which PostgreSQL
            // refuses and MySQL and SQLite read differently) means a literal backslash on
            // every backend.
            let s = if dangling_escape(&s) { s + "\\" } else { s };
            Operand::One(typed(&s.replace('*', "%"))?)
        }
        (_, grammar::Operand::Scalar(s)) => Operand::One(typed(&s)?),
        (op, _) => {
            return Err(refuse(format!(
                "operator `{}` does not take that kind of value",
                op.as_str()
            )))
        }
    };
    Ok(Cond {
        field,
        op: c.op,
        negated: c.negated,
        operand,
    })
}

/// Refuses the conditions `backend` cannot run (after planning, where the backend is
/// known): `cs` and `cd` on a JSON field on SQLite, which has no JSON containment
/// (arrays, stored there as JSON arrays, are tested with `json_each`); in `filters` and in
/// those of the embedded resources (`embeds`, over `res`'s related models).
pub(crate) fn check_backend(
    res: &Schema,
    filters: &[Filter],
    embeds: &[EmbedPlan],
    backend: crate::db::Backend,
) -> Result<(), Problem> {
    fn walk(root: &Schema, res: &Schema, f: &Filter, out: &mut Option<&'static str>) {
        match f {
            Filter::Cond(c) => {
                if c.op.is_containment() && res.ty(c.field) == FieldType::Json {
                    out.get_or_insert(res.field(c.field).name);
                }
            }
            Filter::And(v) | Filter::Or(v) => v.iter().for_each(|f| walk(root, res, f, out)),
            Filter::Not(f) => walk(root, res, f, out),
            Filter::Related(e) => {
                let child = &root.related[e.target].schema;
                e.filters.iter().for_each(|f| walk(root, child, f, out));
                through(root, e.via.as_ref(), out);
            }
        }
    }
    fn through(root: &Schema, via: Option<&crate::filter::Via>, out: &mut Option<&'static str>) {
        if let Some(via) = via {
            let join = &root.related[via.join].schema;
            via.filters.iter().for_each(|f| walk(root, join, f, out));
        }
    }
    fn embedded(root: &Schema, embeds: &[EmbedPlan], out: &mut Option<&'static str>) {
        for e in embeds {
            let child = &root.related[e.target].schema;
            e.filters.iter().for_each(|f| walk(root, child, f, out));
            through(root, e.through.as_ref(), out);
            embedded(root, &e.embeds, out);
        }
    }
    if backend != crate::db::Backend::Sqlite {
        return Ok(());
    }
    let mut found = None;
    filters.iter().for_each(|f| walk(res, res, f, &mut found));
    embedded(res, embeds, &mut found);
    match found {
        None => Ok(()),
        Some(name) => Err(Problem::invalid_parameter(
            name,
            format!(
                "`{name}`: `cs` and `cd` on a JSON field are not available on this \
                 server's database (SQLite has no JSON containment; PostgreSQL and \
                 MySQL/MariaDB have it); use `is`"
            ),
        )),
    }
}

/// Whether a `like` pattern ends with an unpaired `\`.
fn dangling_escape(pattern: &str) -> bool {
    pattern.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// Resolves `select=` against the readable fields; `None` selects them all. Embedded
/// resources are refused: where an answer embeds them, its handler plans `select` with
/// [`plan_read_select`].
pub(crate) fn plan_select(
    res: &Schema,
    readable: FieldSet,
    select: Option<Select>,
) -> Result<Vec<Column>, Problem> {
    if let Some(e) = select.as_ref().and_then(|s| s.embeds.first()) {
        return Err(Problem::invalid_parameter(
            "select",
            format!("`{}(...)`: this answer embeds no resource", e.relation),
        ));
    }
    let (columns, _) = plan_read_select(res, readable, select)?;
    Ok(columns)
}

/// Resolves `select=` against the readable fields, its embedded resources aside (`None`
/// selects every readable field).
pub(crate) fn plan_read_select(
    res: &Schema,
    readable: FieldSet,
    select: Option<Select>,
) -> Result<(Vec<Column>, Vec<grammar::Embed>), Problem> {
    let all = || -> Vec<Column> {
        readable
            .iter()
            .map(|field| Column { field, alias: None })
            .collect()
    };
    let Some(select) = select else {
        return Ok((all(), Vec::new()));
    };
    let mut columns = if select.star { all() } else { Vec::new() };
    columns.extend(select_items(res, readable, select.items)?);
    let mut names = std::collections::HashSet::new();
    for c in &columns {
        let name = c.alias.as_deref().unwrap_or(res.field(c.field).name);
        if !names.insert(name) {
            return Err(Problem::invalid_parameter(
                "select",
                format!(
                    "`select` names two columns `{name}`; give each its own name, \
                     as in `{name}2:{}`",
                    res.field(c.field).name
                ),
            ));
        }
    }
    for name in embed::embed_members(&select.embeds)? {
        if !names.insert(name) {
            return Err(Problem::invalid_parameter(
                "select",
                format!(
                    "`select` names two members `{name}` (fields, embedded resources or the \
                     fields of a spread one); give each its own name with `alias:`"
                ),
            ));
        }
    }
    Ok((columns, select.embeds))
}

/// Plans the embeds of a read (list, retrieve) of `res` under `policy`: `embeds` from
/// `select`, the parameters addressed to them, and the top-level filters on them
/// (`posts=is.null`), taken out of `filters`.
pub(crate) fn plan_embeds(
    res: &Schema,
    policy: &Policy,
    embeds: Vec<grammar::Embed>,
    params: Vec<grammar::EmbedParam>,
    nulls: Vec<NullTest>,
    access: &mut AccessFn<'_>,
) -> Result<embed::Embeds, Problem> {
    if embeds.is_empty() && params.is_empty() && nulls.is_empty() {
        return Ok(embed::Embeds::default());
    }
    embed::plan(res, policy.op, embeds, params, nulls, access)
}

fn select_items(
    res: &Schema,
    readable: FieldSet,
    items: Vec<grammar::SelectItem>,
) -> Result<Vec<Column>, Problem> {
    items
        .into_iter()
        .map(|it| {
            let field = res
                .by_name(&it.field)
                .filter(|i| readable.contains(*i))
                .ok_or_else(|| {
                    Problem::invalid_parameter(
                        "select",
                        format!(
                            "`{}` is not a field you can select; readable fields: {}",
                            it.field,
                            res.names(readable)
                        ),
                    )
                })?;
            Ok(Column {
                field,
                alias: it.alias,
            })
        })
        .collect()
}

/// A top-level filter that names an embedded resource instead of a field: only `is.null`
/// and `not.is.null` apply to it.
fn null_test(
    res: &Schema,
    embeds: &[grammar::Embed],
    expr: &Expr,
    param: &str,
) -> Result<Option<NullTest>, Problem> {
    let Expr::Cond(c) = expr else {
        return Ok(None);
    };
    let is_embed = embeds
        .iter()
        .any(|e| e.alias.as_deref().unwrap_or(&e.relation) == c.field);
    if !is_embed || res.by_name(&c.field).is_some() {
        return Ok(None);
    }
    match (c.op, &c.operand) {
        (Op::Is, grammar::Operand::Is(grammar::IsValue::Null)) => Ok(Some(NullTest {
            name: c.field.clone(),
            param: param.to_owned(),
            is_null: !c.negated,
        })),
        _ => Err(Problem::invalid_parameter(
            param,
            format!(
                "`{}` is an embedded resource: only `{0}=is.null` (parents without one) and \
                 `{0}=not.is.null` apply to it; filter its rows with `{0}.field=op.value`",
                c.field
            ),
        )),
    }
}

/// Checks a list request's query string against the policy; `access` gives the caller's
/// access to each embedded model.
pub(crate) fn plan_list(
    res: &Schema,
    policy: &Policy,
    pairs: &[(String, String)],
    range: Option<(u64, Option<u64>)>,
    access: &mut AccessFn<'_>,
) -> Result<ListPlan, Problem> {
    let op = policy.op;
    let limits = grammar::Limits {
        max_depth: op.max_depth,
        max_conditions: op.max_conditions,
        max_in_items: op.max_in_items,
    };
    let parsed = grammar::parse_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &limits)
        .map_err(syntax)?;
    let (columns, embeds) = plan_read_select(res, policy.fields, parsed.select)?;
    let mut filters = policy.forced.clone();
    let mut nulls = Vec::new();
    for (expr, param) in parsed.filters.into_iter().zip(filter_params(pairs)) {
        match null_test(res, &embeds, &expr, param)? {
            Some(n) => nulls.push(n),
            None => filters.push(type_expr(res, policy.filterable, Names::Api, param, expr)?),
        }
    }
    let embedded = plan_embeds(res, policy, embeds, parsed.embedded, nulls, access)?;
    filters.extend(embedded.parent_filters);
    let mut order = match parsed.order {
        Some(_) if op.fixed_order => {
            return Err(Problem::invalid_parameter(
                "order",
                format!(
                    "the order of {} is fixed and cannot be changed",
                    res.model.path
                ),
            ))
        }
        Some(terms) => terms
            .iter()
            .map(|t| {
                res.by_name(&t.field)
                    .filter(|i| policy.sortable.contains(*i))
                    .map(|f| order_key(f, t))
                    .ok_or_else(|| {
                        Problem::invalid_parameter(
                            "order",
                            format!(
                                "`{}` is not a field you can sort on; sortable fields: {}",
                                t.field,
                                res.names(policy.sortable)
                            ),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => policy.default_order.clone(),
    };
    if !order.iter().any(|k| k.field == res.key) {
        order.push(OrderKey {
            field: res.key,
            desc: false,
            nulls_first: false,
        });
    }
    if parsed.limit.is_some() && op.fixed_limit {
        return Err(Problem::invalid_parameter(
            "limit",
            format!("the page size of {} is fixed", res.model.path),
        ));
    }
    if matches!(range, Some((_, Some(_)))) && op.fixed_limit {
        return Err(Problem::bad_request(format!(
            "the page size of {} is fixed: a `Range` header may give the first row only, \
             as in `Range: 20-`",
            res.model.path
        )));
    }
    let (range_offset, range_limit) = match range {
        // The parser guarantees `hi >= lo`; `0-18446744073709551615` is u64::MAX + 1 rows.
        Some((lo, Some(hi))) => (Some(lo), Some((hi - lo).saturating_add(1))),
        Some((lo, None)) => (Some(lo), None),
        None => (None, None),
    };
    let limit = parsed
        .limit
        .or(range_limit)
        .unwrap_or(op.default_limit)
        .min(op.max_limit);
    // SQL offsets are signed 64-bit: a larger one is past the end of any table all the same.
    let offset = parsed
        .offset
        .or(range_offset)
        .unwrap_or(0)
        .min(i64::MAX as u64);
    Ok(ListPlan {
        columns,
        filters,
        order,
        limit,
        offset,
        embeds: embedded.tree,
    })
}

/// A checked write chosen by filters (`PATCH` / `DELETE` on the collection path).
#[derive(Debug)]
pub(crate) struct WritePlan {
    /// The answer's columns (`select`, against `readable`).
    pub(crate) columns: Vec<Column>,
    /// The answer's embedded resources (`select`), planned by the handler.
    pub(crate) embeds: Vec<grammar::Embed>,
    /// The operation's `where`, then the client's filters.
    pub(crate) filters: Vec<Filter>,
    /// Whether the client gave any filter.
    pub(crate) filtered: bool,
}

/// Checks the query string of a write chosen by filters: filters on the policy's filterable
/// fields, with the policy's bounds, and `select`. `order`, `limit` and `offset` are refused
/// (PostgREST removed limited updates and deletes).
pub(crate) fn plan_write(
    res: &Schema,
    policy: &Policy,
    readable: FieldSet,
    pairs: &[(String, String)],
) -> Result<WritePlan, Problem> {
    let op = policy.op;
    for (k, _) in pairs {
        if matches!(k.as_str(), "order" | "limit" | "offset") {
            return Err(Problem::invalid_parameter(
                k.clone(),
                format!(
                    "`{k}` does not apply to a {} of {}: it writes every row its filters \
                     match (at most {})",
                    op.kind.name(),
                    res.model.path,
                    op.max_affected
                ),
            ));
        }
    }
    let limits = grammar::Limits {
        max_depth: op.max_depth,
        max_conditions: op.max_conditions,
        max_in_items: op.max_in_items,
    };
    let parsed = grammar::parse_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &limits)
        .map_err(syntax)?;
    let (columns, embeds) = plan_read_select(res, readable, parsed.select)?;
    if let Some(p) = parsed.embedded.first() {
        return Err(Problem::invalid_parameter(
            p.param.clone(),
            format!(
                "`{}` addresses an embedded resource; filters, order and limits on embedded \
                 resources apply to reads (list, retrieve), not to the answer of a {}",
                p.param,
                op.kind.name()
            ),
        ));
    }
    let filtered = !parsed.filters.is_empty();
    let mut filters = policy.forced.clone();
    for (expr, param) in parsed.filters.into_iter().zip(filter_params(pairs)) {
        filters.push(type_expr(res, policy.filterable, Names::Api, param, expr)?);
    }
    Ok(WritePlan {
        columns,
        embeds,
        filters,
        filtered,
    })
}

/// The parameter each parsed filter came from, in the order `parse_query` returns them.
fn filter_params(pairs: &[(String, String)]) -> impl Iterator<Item = &str> {
    pairs
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !matches!(*k, "select" | "order" | "limit" | "offset"))
        .filter(|k| grammar::split_embedded(k).is_none())
}

#[cfg(test)]
mod tests {
    use super::dangling_escape;

    #[test]
    fn a_pattern_may_not_end_in_a_lone_escape() {
        for p in ["\\", "a\\", "a\\\\\\", "*\\"] {
            assert!(dangling_escape(p), "{p}");
        }
        for p in ["", "a", "a\\\\", "\\%", "a\\\\\\\\", "\\a"] {
            assert!(!dangling_escape(p), "{p}");
        }
    }
}
