//! The statements of each operation, written once for every dialect.

use super::SqlWriter;
use crate::db::{Bound, Containment, Like};
use crate::field::FieldSet;
use crate::field_type::FieldType;
use crate::filter::{Column, Cond, Filter, Operand, OrderKey};
use crate::query::{EmbedPlan, ListPlan};
use crate::schema::Schema;
use crate::value::Value;
use expose_core::grammar::{IsValue, Op};

fn select_columns(w: &mut SqlWriter, res: &Schema, columns: &[Column]) {
    w.push("SELECT ");
    w.ident_list(columns.iter().map(|c| res.field(c.field).column));
    w.push(" FROM ").ident(res.model.table);
}

/// `WHERE a AND b ...` for a list of filters (nothing when empty).
fn where_all(w: &mut SqlWriter, res: &Schema, filters: &[Filter]) {
    for (i, f) in filters.iter().enumerate() {
        w.push(if i == 0 { " WHERE " } else { " AND " });
        filter(w, res, f);
    }
}

fn filter(w: &mut SqlWriter, res: &Schema, f: &Filter) {
    match f {
        Filter::Cond(c) => cond(w, res, c),
        Filter::And(v) | Filter::Or(v) => {
            let (joint, empty) = match f {
                Filter::And(_) => (" AND ", "1=1"),
                _ => (" OR ", "1=0"),
            };
            if v.is_empty() {
                w.push(empty);
                return;
            }
            w.push("(");
            for (i, f) in v.iter().enumerate() {
                if i > 0 {
                    w.push(joint);
                }
                filter(w, res, f);
            }
            w.push(")");
        }
        Filter::Not(f) => {
            w.push("NOT (");
            filter(w, res, f);
            w.push(")");
        }
        Filter::Related(e) => {
            // The planner makes these on the router's model only, whose schema holds the graph.
            let Some(child) = res.related.get(e.target).map(|r| &r.schema) else {
                w.push("1=0");
                return;
            };
            if e.negated {
                w.push("NOT ");
            }
            if let Some(via) = &e.via {
                exists_through(w, res, child, e, via);
                return;
            }
            w.push("EXISTS (SELECT 1 FROM ").ident(child.model.table);
            w.push(" ")
                .ident(RELATED)
                .push(" WHERE ")
                .ident(RELATED)
                .push(".");
            w.ident(child.field(e.link.child).column).push(" = ");
            qualified(w, res, e.link.parent);
            let outer = w.qualifier.replace(RELATED);
            for f in &e.filters {
                w.push(" AND ");
                filter(w, child, f);
            }
            w.qualifier = outer;
            w.push(")");
        }
    }
}

/// `EXISTS (SELECT 1 FROM join j WHERE j.parent = t.key AND join filters AND EXISTS
/// (SELECT 1 FROM child c WHERE c.key = j.child AND filters))`: a many-to-many relation's
/// [`Exists`](crate::filter::Exists). Unqualified columns are those of the innermost table
/// that has them: the join model's filters its own, the child's its own.
fn exists_through(
    w: &mut SqlWriter,
    res: &Schema,
    child: &Schema,
    e: &crate::filter::Exists,
    via: &crate::filter::Via,
) {
    let Some(join) = res.related.get(via.join).map(|r| &r.schema) else {
        w.push("1=0");
        return;
    };
    w.push("EXISTS (SELECT 1 FROM ").ident(join.model.table);
    w.push(" ")
        .ident(THROUGH)
        .push(" WHERE ")
        .ident(THROUGH)
        .push(".");
    w.ident(join.field(via.parent).column).push(" = ");
    w.ident(res.model.table).push(".");
    w.ident(res.field(e.link.parent).column);
    for f in &via.filters {
        w.push(" AND ");
        filter(w, join, f);
    }
    w.push(" AND EXISTS (SELECT 1 FROM ")
        .ident(child.model.table);
    w.push(" ")
        .ident(RELATED)
        .push(" WHERE ")
        .ident(RELATED)
        .push(".");
    w.ident(child.field(e.link.child).column).push(" = ");
    w.ident(THROUGH)
        .push(".")
        .ident(join.field(via.child).column);
    for f in &e.filters {
        w.push(" AND ");
        filter(w, child, f);
    }
    w.push("))");
}

/// The alias of a many-to-many relation's join table (or of its rows' derived table).
const THROUGH: &str = "expose_through";

/// The alias of the related table in an `EXISTS` subquery: unqualified columns inside it
/// are the related model's, and the parent's table keeps its own name.
const RELATED: &str = "expose_related";

fn cond(w: &mut SqlWriter, res: &Schema, c: &Cond) {
    let col = |w: &mut SqlWriter| {
        plain(w, res, c.field);
    };
    if c.negated {
        w.push("NOT (");
    }
    match (&c.op, &c.operand) {
        (Op::Is, Operand::Is(v)) => {
            col(w);
            w.push(match v {
                IsValue::Null | IsValue::Unknown => " IS NULL",
                IsValue::NotNull => " IS NOT NULL",
                IsValue::True => " IS TRUE",
                IsValue::False => " IS FALSE",
            });
        }
        (Op::In, Operand::Many(items)) => {
            if items.is_empty() {
                w.push("1=0");
            } else {
                in_values(w, res, c.field, items);
            }
        }
        (Op::Like, Operand::One(v)) => match w.dialect.like {
            Like::Native => {
                col(w);
                w.push(" LIKE ").bind(v.clone());
            }
            Like::Glob => {
                col(w);
                w.push(" GLOB ").bind(glob(v));
            }
            Like::Binary => {
                col(w);
                w.push(" LIKE BINARY ").bind(v.clone());
            }
        },
        (Op::Ilike, Operand::One(v)) => match w.dialect.like {
            Like::Native => {
                col(w);
                w.push(" ILIKE ").bind(v.clone());
            }
            // SQLite's LIKE already ignores ASCII case; unlike the others it has no escape
            // character unless told.
            Like::Glob => {
                col(w);
                w.push(" LIKE ").bind(v.clone());
                w.push(" ESCAPE '\\'");
            }
            Like::Binary => {
                w.push("LOWER(");
                col(w);
                w.push(") LIKE LOWER(");
                w.bind(v.clone()).push(")");
            }
        },
        (Op::Cs | Op::Cd | Op::Ov, Operand::One(v)) => containment(w, res, c, v),
        (op, Operand::One(v)) => {
            column(w, res, c.field).push(match op {
                Op::Eq => " = ",
                Op::Neq => " <> ",
                Op::Gt => " > ",
                Op::Gte => " >= ",
                Op::Lt => " < ",
                _ => " <= ",
            });
            value(w, res, c.field, v);
        }
        // The planner pairs operators with operands; any other pairing matches nothing.
        _ => {
            w.push("1=0");
        }
    }
    if c.negated {
        w.push(")");
    }
}

/// `cs` (the column holds every item of `v`), `cd` (every item of the column is in `v`) or
/// `ov` (they share an item) on an array field, `cs` / `cd` on a JSON field (`@>` / `<@`),
/// as the dialect's [`Containment`] says. A `NULL` column is neither (SQL's unknown, as
/// PostgreSQL's operators answer).
fn containment(w: &mut SqlWriter, res: &Schema, c: &Cond, v: &Value) {
    let json = res.ty(c.field) == FieldType::Json;
    match w.dialect.containment {
        Containment::Operators => {
            // `json` columns too (the cast is a no-op on `jsonb`, which keeps its indexes).
            if json {
                w.push("CAST(");
                plain(w, res, c.field).push(" AS jsonb)");
            } else {
                plain(w, res, c.field);
            }
            w.push(match c.op {
                Op::Cs => " @> ",
                Op::Cd => " <@ ",
                _ => " && ",
            });
            w.bind(v.clone());
        }
        Containment::JsonContains => {
            match c.op {
                Op::Cs => {
                    w.push("JSON_CONTAINS(");
                    plain(w, res, c.field).push(", ").bind(v.clone())
                }
                Op::Cd => {
                    w.push("JSON_CONTAINS(").bind(v.clone()).push(", ");
                    plain(w, res, c.field)
                }
                _ => {
                    w.push("JSON_OVERLAPS(");
                    plain(w, res, c.field).push(", ").bind(v.clone())
                }
            };
            w.push(")");
        }
        // The column qualified by its table: `json_each` has columns of its own (`key`,
        // `value`, `type`, ...) that a field's column may be named like.
        Containment::JsonEach => {
            let qualified = |w: &mut SqlWriter| {
                let table = w.qualifier.unwrap_or(res.model.table);
                w.ident(table).push(".").ident(res.field(c.field).column);
            };
            w.push("(CASE WHEN ");
            qualified(w);
            w.push(" IS NULL THEN NULL ELSE ");
            // The items of `outer`, one of which is (`ov`) or none of which is not (`cs`,
            // `cd`) among the items of `inner`.
            let (exists, outer_is_column) = match c.op {
                Op::Cs => ("NOT EXISTS", false),
                Op::Cd => ("NOT EXISTS", true),
                _ => ("EXISTS", true),
            };
            w.push(exists).push(" (SELECT 1 FROM json_each(");
            if outer_is_column {
                qualified(w);
            } else {
                w.bind(v.clone());
            }
            w.push(") AS expose_item WHERE expose_item.value ");
            w.push(if c.op == Op::Ov { "IN" } else { "NOT IN" });
            w.push(" (SELECT value FROM json_each(");
            if outer_is_column {
                w.bind(v.clone());
            } else {
                qualified(w);
            }
            w.push("))) END)");
        }
    }
}

/// Whether field `i` holds date-times stored as text (SQLite): there one instant has several
/// spellings (`12:00:00+00:00`, `12:00:00.000+00:00`, ...), so a text comparison is wrong.
/// Such fields are compared and sorted as instants, through `julianday()` (SQLite's own
/// date-time resolution: milliseconds).
fn text_datetime(w: &SqlWriter, res: &Schema, i: usize) -> bool {
    // `Like::Glob` is SQLite's dialect, the only one without a date-time column type.
    w.dialect.like == Like::Glob && res.ty(i) == FieldType::DateTime
}

/// Whether field `i` holds decimals stored as text (SQLite, `decimal.rs`): compared and
/// sorted through the `expose_decimal` collation, which reads the texts as numbers.
fn text_decimal(w: &SqlWriter, res: &Schema, i: usize) -> bool {
    w.dialect.like == Like::Glob && res.ty(i) == FieldType::Decimal
}

/// The column of field `i`, as it is compared and sorted.
fn column<'w>(w: &'w mut SqlWriter, res: &Schema, i: usize) -> &'w mut SqlWriter {
    if text_datetime(w, res, i) {
        w.push("julianday(");
        plain(w, res, i).push(")")
    } else if text_decimal(w, res, i) {
        plain(w, res, i)
            .push(" COLLATE ")
            .push(crate::decimal::COLLATION)
    } else {
        plain(w, res, i)
    }
}

/// The column of field `i` as stored, qualified by the writer's
/// [`qualifier`](SqlWriter::qualifier) when it has one.
fn plain<'w>(w: &'w mut SqlWriter, res: &Schema, i: usize) -> &'w mut SqlWriter {
    if let Some(q) = w.qualifier {
        w.ident(q).push(".");
    }
    w.ident(res.field(i).column)
}

/// The column of field `i` qualified by its table's name.
fn qualified<'w>(w: &'w mut SqlWriter, res: &Schema, i: usize) -> &'w mut SqlWriter {
    w.ident(res.model.table)
        .push(".")
        .ident(res.field(i).column)
}

/// A bound value compared with field `i`.
///
/// On MySQL/MariaDB text is compared as binary, as `like` is: the column's collation may
/// ignore case, and even `utf8mb4_bin` pads with spaces (`'a' = 'a '`).
fn value(w: &mut SqlWriter, res: &Schema, i: usize, v: &Value) {
    if text_datetime(w, res, i) {
        w.push("julianday(").bind(v.clone()).push(")");
    } else if w.dialect.like == Like::Binary
        && matches!(res.ty(i), FieldType::Text | FieldType::Enum(_))
    {
        w.push("BINARY ").bind(v.clone());
    } else {
        w.bind(v.clone());
    }
}

/// Turns a LIKE pattern (`%`, `_`, `\` escapes) into a GLOB pattern.
/// `column IN (v1, v2, ...)`, each value bound (`values` is not empty).
fn in_values(w: &mut SqlWriter, res: &Schema, field: usize, values: &[Value]) {
    column(w, res, field).push(" IN (");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        value(w, res, field, v);
    }
    w.push(")");
}

fn glob(v: &Value) -> Value {
    let Value::Text(p) = v else {
        return v.clone();
    };
    let mut out = String::with_capacity(p.len() + 4);
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '\\' => match chars.next() {
                Some(e @ ('*' | '?' | '[')) => {
                    out.push('[');
                    out.push(e);
                    out.push(']');
                }
                Some(e) => out.push(e),
                None => out.push('\\'),
            },
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            c => out.push(c),
        }
    }
    Value::Text(out)
}

fn order_by(w: &mut SqlWriter, res: &Schema, order: &[OrderKey]) {
    for (i, k) in order.iter().enumerate() {
        w.push(if i == 0 { " ORDER BY " } else { ", " });
        let f = res.field(k.field);
        let dir = if k.desc { " DESC" } else { " ASC" };
        if !f.nullable {
            column(w, res, k.field).push(dir);
        } else if w.dialect.nulls_order {
            column(w, res, k.field).push(dir);
            w.push(if k.nulls_first {
                " NULLS FIRST"
            } else {
                " NULLS LAST"
            });
        } else {
            plain(w, res, k.field).push(" IS NULL");
            w.push(if k.nulls_first { " DESC, " } else { " ASC, " });
            plain(w, res, k.field).push(dir);
        }
    }
}

/// `SELECT cols FROM t WHERE ... ORDER BY ... LIMIT n OFFSET m`.
pub(crate) fn list(w: &mut SqlWriter, res: &Schema, plan: &ListPlan, limit: u64) {
    list_of(w, res, &plan.columns, &[], plan, limit);
}

/// [`list`] with other columns (the plan's and the fields its embeds join on), and the
/// to-one embeds `joins` joined ([`select_joined`]).
pub(crate) fn list_of(
    w: &mut SqlWriter,
    res: &Schema,
    columns: &[Column],
    joins: &[&EmbedPlan],
    plan: &ListPlan,
    limit: u64,
) {
    select_joined(w, res, columns, joins);
    where_all(w, res, &plan.filters);
    order_by(w, res, &plan.order);
    w.push(" LIMIT ").number(limit);
    if plan.offset > 0 {
        w.push(" OFFSET ").number(plan.offset);
    }
    w.qualifier = None;
}

/// The aliases of the tables a read joins, one per to-one embed joined in its statement
/// (a read joins at most this many; its other embeds are fetched after it).
pub(crate) const JOINED: [&str; 8] = [
    "expose_j0",
    "expose_j1",
    "expose_j2",
    "expose_j3",
    "expose_j4",
    "expose_j5",
    "expose_j6",
    "expose_j7",
];

/// `SELECT t.a, ..., expose_j0.key, expose_j0.b, ... FROM t LEFT JOIN c AS expose_j0 ON
/// expose_j0.key = t.link AND <the embed's filters> ...`: the parent's columns, then for
/// each to-one embed of `joins` its key (`NULL` when the parent has no row there, or none
/// the embed's filters let through: the parent stays, its embed is `null`; left out where
/// one of its columns tells that instead, [`EmbedPlan::presence`]) and its columns,
/// under an alias of its own ([`JOINED`]), so that the same table joined twice, or the
/// parent's own, cannot clash. What follows (`WHERE`, `ORDER BY`) is qualified by `t`
/// until the caller resets the writer's qualifier. Without joins, [`select_columns`].
fn select_joined(w: &mut SqlWriter, res: &Schema, columns: &[Column], joins: &[&EmbedPlan]) {
    if joins.is_empty() {
        select_columns(w, res, columns);
        return;
    }
    w.push("SELECT ");
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        qualified(w, res, c.field);
    }
    for (j, (e, alias)) in joins.iter().zip(JOINED).enumerate() {
        let child = &res.related[e.target].schema;
        let key = e.presence.is_none().then_some(e.link.child);
        let fields = key.into_iter().chain(e.columns.iter().map(|c| c.field));
        for (i, f) in fields.enumerate() {
            if i > 0 || j > 0 || !columns.is_empty() {
                w.push(", ");
            }
            w.ident(alias).push(".").ident(child.field(f).column);
        }
    }
    w.push(" FROM ").ident(res.model.table);
    for (e, alias) in joins.iter().zip(JOINED) {
        let child = &res.related[e.target].schema;
        w.push(" LEFT JOIN ").ident(child.model.table);
        w.push(" AS ").ident(alias).push(" ON ");
        w.qualifier = Some(alias);
        column(w, child, e.link.child).push(" = ");
        w.qualifier = Some(res.model.table);
        // As a bound value is compared ([`value`]): text as binary on MySQL/MariaDB.
        if w.dialect.like == Like::Binary
            && matches!(res.ty(e.link.parent), FieldType::Text | FieldType::Enum(_))
        {
            w.push("BINARY ");
        }
        column(w, res, e.link.parent);
        w.qualifier = Some(alias);
        for f in &e.filters {
            w.push(" AND ");
            filter(w, child, f);
        }
    }
    w.qualifier = Some(res.model.table);
}

/// The rows of `embed` under a page of parents, whose link field is one of `keys`:
/// `SELECT fields FROM t WHERE link IN (...) AND filters ORDER BY ...`; to-many, numbered
/// per parent in the embed's order and kept within its limit and offset
/// (`ROW_NUMBER() OVER (PARTITION BY link ORDER BY ...)`), in that order.
pub(crate) fn embedded(
    w: &mut SqlWriter,
    res: &Schema,
    fields: &[usize],
    embed: &EmbedPlan,
    keys: &[Value],
) {
    let (link, filters, order) = (embed.link.child, &embed.filters, &embed.order);
    let per_parent = embed.link.many.then_some((embed.limit, embed.offset));
    let names = || fields.iter().map(|f| res.field(*f).column);
    let keyed = |w: &mut SqlWriter| {
        w.push(" WHERE ");
        in_values(w, res, link, keys);
        for f in filters {
            w.push(" AND ");
            filter(w, res, f);
        }
    };
    let Some((limit, offset)) = per_parent else {
        w.push("SELECT ").ident_list(names());
        w.push(" FROM ").ident(res.model.table);
        keyed(w);
        order_by(w, res, order);
        return;
    };
    let mut inner: Vec<usize> = Vec::with_capacity(fields.len());
    for f in fields {
        if !inner.contains(f) {
            inner.push(*f);
        }
    }
    w.push("SELECT ").ident_list(names());
    w.push(" FROM (SELECT ");
    w.ident_list(inner.iter().map(|f| res.field(*f).column));
    w.push(", ROW_NUMBER() OVER (PARTITION BY ");
    column(w, res, link);
    order_by(w, res, order);
    w.push(") AS ").ident(ROW_NUMBER);
    w.push(" FROM ").ident(res.model.table);
    keyed(w);
    w.push(") ")
        .ident(EMBEDDED)
        .push(" WHERE ")
        .ident(ROW_NUMBER);
    w.push(" > ")
        .number(offset)
        .push(" AND ")
        .ident(ROW_NUMBER)
        .push(" <= ");
    w.number(offset.saturating_add(limit).min(i64::MAX as u64));
    w.push(" ORDER BY ").ident(ROW_NUMBER);
}

/// The rows of a many-to-many `embed` under a page of parents whose keys are `keys`, with
/// the parent's key last (as [`PARENT`]): the embedded model's rows joined to the join
/// model's rows that link them to those parents, `SELECT fields, parent FROM (SELECT
/// fields, j.parent, ROW_NUMBER() OVER (PARTITION BY j.parent ORDER BY ...) FROM t JOIN
/// (SELECT parent, child FROM join WHERE parent IN (...) AND join filters) j ON j.child =
/// t.key WHERE filters) WHERE rn within the embed's offset and limit ORDER BY rn`. The
/// join's rows are a derived table of two aliased columns, so that the embedded model's
/// columns and filters are written unqualified, as in [`embedded`].
pub(crate) fn embedded_through(
    w: &mut SqlWriter,
    res: &Schema,
    join: &Schema,
    fields: &[usize],
    embed: &EmbedPlan,
    via: &crate::filter::Via,
    keys: &[Value],
) {
    let mut inner: Vec<usize> = Vec::with_capacity(fields.len());
    for f in fields {
        if !inner.contains(f) {
            inner.push(*f);
        }
    }
    w.push("SELECT ")
        .ident_list(fields.iter().map(|f| res.field(*f).column));
    w.push(", ").ident(PARENT);
    w.push(" FROM (SELECT ");
    w.ident_list(inner.iter().map(|f| res.field(*f).column));
    w.push(", ").ident(THROUGH).push(".").ident(PARENT);
    w.push(", ROW_NUMBER() OVER (PARTITION BY ")
        .ident(THROUGH)
        .push(".")
        .ident(PARENT);
    order_by(w, res, &embed.order);
    w.push(") AS ").ident(ROW_NUMBER);
    w.push(" FROM ")
        .ident(res.model.table)
        .push(" JOIN (SELECT ");
    w.ident(join.field(via.parent).column)
        .push(" AS ")
        .ident(PARENT);
    w.push(", ")
        .ident(join.field(via.child).column)
        .push(" AS ")
        .ident(CHILD);
    w.push(" FROM ").ident(join.model.table).push(" WHERE ");
    in_values(w, join, via.parent, keys);
    for f in &via.filters {
        w.push(" AND ");
        filter(w, join, f);
    }
    w.push(") ")
        .ident(THROUGH)
        .push(" ON ")
        .ident(THROUGH)
        .push(".");
    w.ident(CHILD).push(" = ").ident(res.model.table).push(".");
    w.ident(res.field(embed.link.child).column);
    for (i, f) in embed.filters.iter().enumerate() {
        w.push(if i == 0 { " WHERE " } else { " AND " });
        filter(w, res, f);
    }
    w.push(") ")
        .ident(EMBEDDED)
        .push(" WHERE ")
        .ident(ROW_NUMBER);
    w.push(" > ")
        .number(embed.offset)
        .push(" AND ")
        .ident(ROW_NUMBER)
        .push(" <= ");
    w.number(
        embed
            .offset
            .saturating_add(embed.limit)
            .min(i64::MAX as u64),
    );
    w.push(" ORDER BY ").ident(ROW_NUMBER);
}

/// The parent's key in a many-to-many embed's rows ([`embedded_through`]).
const PARENT: &str = "expose_parent";
/// The embedded row's key in a many-to-many embed's join rows.
const CHILD: &str = "expose_child";

const ROW_NUMBER: &str = "expose_rn";
const EMBEDDED: &str = "expose_embedded";

/// `SELECT COUNT(*) FROM t WHERE ...`.
pub(crate) fn count(w: &mut SqlWriter, res: &Schema, filters: &[Filter]) {
    w.push("SELECT COUNT(*) FROM ").ident(res.model.table);
    where_all(w, res, filters);
}

/// `SELECT 1 FROM t WHERE ...`: the rows [`count`] counts.
fn counted(w: &mut SqlWriter, res: &Schema, filters: &[Filter]) {
    w.push("SELECT 1 FROM ").ident(res.model.table);
    where_all(w, res, filters);
}

/// `SELECT COUNT(*) FROM (SELECT 1 FROM t WHERE ... LIMIT n) c`: the count, read no
/// further than `n` rows.
pub(crate) fn count_at_most(w: &mut SqlWriter, res: &Schema, filters: &[Filter], n: u64) {
    w.push("SELECT COUNT(*) FROM (");
    counted(w, res, filters);
    w.push(" LIMIT ").number(n).push(") c");
}

/// The dialect's `EXPLAIN` of the rows [`count`] counts (as PostgREST explains its count
/// query): the plan of `SELECT 1 FROM t WHERE ...`, whose top node's estimate is those rows
/// (the plan of `COUNT(*)` itself estimates its one row). `None` when the dialect has no
/// row estimates.
pub(crate) fn explain_count(w: &mut SqlWriter, res: &Schema, filters: &[Filter]) -> Option<()> {
    w.push(w.dialect.explain?);
    counted(w, res, filters);
    Some(())
}

fn key_filter(res: &Schema, key: Value) -> Filter {
    field_is(res.key, key)
}

/// A condition `field = value`.
pub(crate) fn field_is(field: usize, value: Value) -> Filter {
    Filter::Cond(Cond {
        field,
        op: Op::Eq,
        negated: false,
        operand: Operand::One(value),
    })
}

/// `SELECT cols FROM t WHERE key = ? AND ...`.
pub(crate) fn by_key(
    w: &mut SqlWriter,
    res: &Schema,
    columns: &[Column],
    key: Value,
    filters: &[Filter],
) {
    by_key_joined(w, res, columns, &[], key, filters);
}

/// [`by_key`] with the to-one embeds `joins` joined ([`select_joined`]).
pub(crate) fn by_key_joined(
    w: &mut SqlWriter,
    res: &Schema,
    columns: &[Column],
    joins: &[&EmbedPlan],
    key: Value,
    filters: &[Filter],
) {
    select_joined(w, res, columns, joins);
    where_all(w, res, &[key_filter(res, key)]);
    for f in filters {
        w.push(" AND ");
        filter(w, res, f);
    }
    w.qualifier = None;
}

fn returning(w: &mut SqlWriter, res: &Schema, columns: Option<&[Column]>) {
    if let Some(cols) = columns {
        w.push(" RETURNING ");
        w.ident_list(cols.iter().map(|c| res.field(c.field).column));
    }
}

/// `INSERT INTO t (a, b) VALUES (?, ?) [RETURNING cols]`.
pub(crate) fn insert(
    w: &mut SqlWriter,
    res: &Schema,
    values: Vec<(usize, Value)>,
    ret: Option<&[Column]>,
) {
    w.push("INSERT INTO ").ident(res.model.table);
    if values.is_empty() {
        w.push(w.dialect.insert_defaults);
    } else {
        w.push(" (");
        w.ident_list(values.iter().map(|(i, _)| res.field(*i).column));
        w.push(") VALUES (");
        for (n, (_, v)) in values.into_iter().enumerate() {
            if n > 0 {
                w.push(", ");
            }
            w.bind(v);
        }
        w.push(")");
    }
    returning(w, res, ret);
}

/// What a one-row upsert's merge sets: the fields it takes as the row inserted them
/// (`sent`, named rather than bound again: `EXCLUDED.a`, MySQL's `VALUES(a)`), then the
/// values the update forces.
#[derive(Debug)]
pub(crate) struct Merge {
    /// The fields taken from the row.
    pub(crate) sent: u64,
    /// The forced values, bound.
    pub(crate) forced: Vec<(usize, Value)>,
}

/// One row upserted on its `conflict` field in one statement, as the dialect spells it
/// ([`Upsert`](crate::db::Upsert)): `INSERT ... ON CONFLICT (c) DO UPDATE SET a =
/// EXCLUDED.a, f = ?, ...` (or `DO NOTHING` without `set`), or MySQL's `INSERT ... ON
/// DUPLICATE KEY UPDATE a = VALUES(a), f = ?, ...`; a version field counts the merge. With `ret`, `RETURNING` those columns and,
/// where the dialect can say it (PostgreSQL: `xmax` is 0 in a row version its own
/// statement inserted), whether the row was inserted, as a last column of 1 or 0.
pub(crate) fn upsert(
    w: &mut SqlWriter,
    res: &Schema,
    values: Vec<(usize, Value)>,
    conflict: usize,
    set: Option<Merge>,
    ret: Option<&[Column]>,
) {
    let mysql = w.dialect.upsert == crate::db::Upsert::OnDuplicateKey;
    insert(w, res, values, None);
    match set {
        None => {
            w.push(" ON CONFLICT (")
                .ident(res.field(conflict).column)
                .push(") DO NOTHING");
        }
        Some(Merge { sent, forced }) => {
            match mysql {
                true => w.push(" ON DUPLICATE KEY UPDATE "),
                false => w
                    .push(" ON CONFLICT (")
                    .ident(res.field(conflict).column)
                    .push(") DO UPDATE SET "),
            };
            let mut n = 0;
            for i in FieldSet(sent).iter() {
                let col = res.field(i).column;
                w.push(if n > 0 { ", " } else { "" }).ident(col).push(" = ");
                match mysql {
                    true => w.push("VALUES(").ident(col).push(")"),
                    false => w.push("EXCLUDED.").ident(col),
                };
                n += 1;
            }
            for (i, v) in forced {
                w.push(if n > 0 { ", " } else { "" });
                w.ident(res.field(i).column).push(" = ").bind(v);
                n += 1;
            }
            if let Some(v) = res.version {
                let col = res.field(v).column;
                w.push(", ").ident(col).push(" = ");
                w.ident(res.model.table).push(".").ident(col).push(" + 1");
            }
        }
    }
    let Some(cols) = ret else { return };
    w.push(" RETURNING ");
    w.ident_list(cols.iter().map(|c| res.field(c.field).column));
    if w.dialect.upsert == crate::db::Upsert::OnConflict {
        w.push(if cols.is_empty() { "" } else { ", " });
        w.push("CAST(CASE WHEN xmax = 0 THEN 1 ELSE 0 END AS BIGINT)");
    }
}

/// `UPDATE t SET a = ? WHERE key = ? AND ... [RETURNING cols]`.
pub(crate) fn update(
    w: &mut SqlWriter,
    res: &Schema,
    key: Value,
    values: Vec<(usize, Value)>,
    filters: &[Filter],
    ret: Option<&[Column]>,
) {
    update_where(w, res, values, &[key_filter(res, key)], filters, None, ret);
}

/// `UPDATE t SET a = ?, version = version + 1 WHERE a AND b ... [RETURNING cols]`: the
/// filters of `first` then those of `rest` (an empty `WHERE` writes every row), within
/// `bound` when given (see [`capped`]).
pub(crate) fn update_where(
    w: &mut SqlWriter,
    res: &Schema,
    values: Vec<(usize, Value)>,
    first: &[Filter],
    rest: &[Filter],
    bound: Option<Bounded>,
    ret: Option<&[Column]>,
) {
    chosen_rows(w, res, first, rest, bound);
    w.push("UPDATE ").ident(res.model.table).push(" SET ");
    for (n, (i, v)) in values.into_iter().enumerate() {
        if n > 0 {
            w.push(", ");
        }
        w.ident(res.field(i).column).push(" = ").bind(v);
    }
    if let Some(v) = res.version {
        let col = res.field(v).column;
        w.push(", ").ident(col).push(" = ").ident(col).push(" + 1");
    }
    where_capped(w, res, first, rest, bound);
    returning(w, res, ret);
}

/// The bound of a write chosen by filters ([`where_capped`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounded {
    /// The most rows it may change: it changes none when its filters match more.
    pub(crate) max: u64,
    /// Whether it locks its rows in key order before it writes them, so that overlapping
    /// writes cannot deadlock ([`chosen_rows`]; where the dialect locks rows and counts
    /// its bound, PostgreSQL): asked for after a deadlock.
    pub(crate) ordered: bool,
}

/// The name of the rows a bounded write chose or counts ([`where_capped`]).
const CHOSEN: &str = "expose_chosen";

/// Whether the bounded write's rows are chosen and locked in key order first.
fn in_key_order(w: &SqlWriter, bound: Option<Bounded>) -> bool {
    let ordered = bound.is_some_and(|b| b.ordered);
    ordered && w.dialect.row_locks && w.dialect.bound == Bound::Counted
}

/// Where asked ([`Bounded::ordered`]), `WITH expose_chosen AS (SELECT key FROM t WHERE ...
/// ORDER BY key LIMIT max + 1 FOR UPDATE) `: the write's rows locked in key order before
/// it meets them. A plain `UPDATE` locks them in the order its plan meets them (a bitmap
/// scan's: the table's physical order), and two overlapping ones may deadlock.
fn chosen_rows(
    w: &mut SqlWriter,
    res: &Schema,
    first: &[Filter],
    rest: &[Filter],
    bound: Option<Bounded>,
) {
    let Some(b) = bound.filter(|_| in_key_order(w, bound)) else {
        return;
    };
    let key = res.field(res.key).column;
    w.push("WITH ")
        .ident(CHOSEN)
        .push(" AS (SELECT ")
        .ident(key);
    w.push(" FROM ").ident(res.model.table);
    where_both(w, res, first, rest);
    w.push(" ORDER BY ")
        .ident(key)
        .push(" LIMIT ")
        .number(b.max.saturating_add(1));
    for_update(w);
    w.push(") ");
}

/// `WHERE ...` of a write, on at most `cap` rows when given: the statement writes nothing
/// when its filters match more than `cap` rows, so that an answer of no rows may mean "too
/// many" (the caller counts then), except MySQL's, which stops after `cap + 1` rows and
/// which the caller rolls back when it changed more than `cap`. As the dialect's [`Bound`]
/// says:
/// - `Counted` (SQLite, PostgreSQL): the filters and `(SELECT COUNT(*) FROM (SELECT 1 FROM
///   t WHERE <filters> LIMIT cap + 1) AS expose_chosen) <= cap`, a subquery that does not
///   depend on the row, evaluated once (PostgreSQL: an init plan gating the write's scan).
///   In key order ([`chosen_rows`]): the filters and `(SELECT COUNT(*) FROM expose_chosen)
///   <= cap`, which runs, and so locks every chosen row, before the write's own scan meets
///   its first row; that scan meets the rows already locked (their latest versions,
///   re-checked against the filters), so it waits for no other lock;
/// - `Limited` (MySQL/MariaDB): the filters, `LIMIT cap + 1`. No `ORDER BY`: InnoDB locks
///   rows as its scan reads them, in the order of the index it scans whatever the order
///   asked (the clustered key's for a key range or a table scan), and an `ORDER BY` makes
///   MariaDB buffer the rows before writing them ("Using buffer").
fn where_capped(
    w: &mut SqlWriter,
    res: &Schema,
    first: &[Filter],
    rest: &[Filter],
    bound: Option<Bounded>,
) {
    let empty = first.is_empty() && rest.is_empty();
    let ordered = in_key_order(w, bound);
    match (bound.map(|b| b.max), w.dialect.bound) {
        (None, _) => where_both(w, res, first, rest),
        (Some(n), Bound::Counted) if ordered => {
            where_both(w, res, first, rest);
            w.push(if empty { " WHERE " } else { " AND " });
            w.push("(SELECT COUNT(*) FROM ").ident(CHOSEN);
            w.push(") <= ").number(n);
        }
        (Some(n), Bound::Limited) => {
            where_both(w, res, first, rest);
            w.push(" LIMIT ").number(n.saturating_add(1));
        }
        (Some(n), Bound::Counted) => {
            where_both(w, res, first, rest);
            w.push(if empty { " WHERE " } else { " AND " });
            w.push("(SELECT COUNT(*) FROM (SELECT 1 FROM ")
                .ident(res.model.table);
            where_both(w, res, first, rest);
            w.push(" LIMIT ").number(n.saturating_add(1));
            w.push(") AS ").ident(CHOSEN).push(") <= ").number(n);
        }
    }
}

/// `WHERE a AND b ...` over two lists of filters.
fn where_both(w: &mut SqlWriter, res: &Schema, first: &[Filter], rest: &[Filter]) {
    for (i, f) in first.iter().chain(rest).enumerate() {
        w.push(if i == 0 { " WHERE " } else { " AND " });
        filter(w, res, f);
    }
}

/// `INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ... [RETURNING cols]`: several rows that
/// write the same fields, in one statement.
pub(crate) fn insert_rows(
    w: &mut SqlWriter,
    res: &Schema,
    fields: &[usize],
    rows: Vec<Vec<Value>>,
    ret: Option<&[Column]>,
) {
    w.push("INSERT INTO ").ident(res.model.table);
    if fields.is_empty() {
        // Rows of no fields: one row of defaults each is all a statement can say.
        w.push(w.dialect.insert_defaults);
    } else {
        w.push(" (");
        w.ident_list(fields.iter().map(|i| res.field(*i).column));
        w.push(") VALUES ");
        for (r, row) in rows.into_iter().enumerate() {
            w.push(if r == 0 { "(" } else { ", (" });
            for (n, v) in row.into_iter().enumerate() {
                if n > 0 {
                    w.push(", ");
                }
                w.bind(v);
            }
            w.push(")");
        }
    }
    returning(w, res, ret);
}

/// `SELECT cols FROM t WHERE ... ORDER BY key LIMIT n [FOR UPDATE]`: the rows a write chosen
/// by filters is about to change, in key order (so that concurrent writes lock alike).
pub(crate) fn select_for_write(
    w: &mut SqlWriter,
    res: &Schema,
    columns: &[Column],
    filters: &[Filter],
    limit: u64,
) {
    select_columns(w, res, columns);
    where_all(w, res, filters);
    w.push(" ORDER BY ");
    column(w, res, res.key).push(" ASC");
    w.push(" LIMIT ").number(limit);
    for_update(w);
}

/// `SELECT cols FROM t WHERE ...`: rows read without a lock, in no particular order.
pub(crate) fn select_where(
    w: &mut SqlWriter,
    res: &Schema,
    columns: &[Column],
    filters: &[Filter],
) {
    select_columns(w, res, columns);
    where_all(w, res, filters);
}

/// A condition `key IN (...)` over the given keys.
pub(crate) fn key_in(res: &Schema, keys: Vec<Value>) -> Filter {
    Filter::Cond(Cond {
        field: res.key,
        op: Op::In,
        negated: false,
        operand: Operand::Many(keys),
    })
}

/// Locks the rows a `SELECT` read until the transaction ends, where the dialect can
/// (SQLite serialises writers with `BEGIN IMMEDIATE` instead).
pub(crate) fn for_update(w: &mut SqlWriter) {
    if w.dialect.row_locks {
        w.push(" FOR UPDATE");
    }
}

/// `LOCK TABLE t IN <mode> MODE` where the dialect has a lock that keeps the table's other
/// writers out until the transaction ends (PostgreSQL's `SHARE ROW EXCLUSIVE`: readers go
/// on); false, and nothing written, elsewhere.
pub(crate) fn lock_writers(w: &mut SqlWriter, res: &Schema) -> bool {
    let Some(mode) = w.dialect.writers_lock else {
        return false;
    };
    w.push("LOCK TABLE ").ident(res.model.table);
    w.push(" IN ").push(mode).push(" MODE");
    true
}

/// `DELETE FROM t WHERE key = ? AND ...`.
pub(crate) fn delete(w: &mut SqlWriter, res: &Schema, key: Value, filters: &[Filter]) {
    delete_where(w, res, &[key_filter(res, key)], filters, None, None);
}

/// `DELETE FROM t WHERE a AND b ... [RETURNING cols]`, within `bound` when given (see
/// [`capped`]).
pub(crate) fn delete_where(
    w: &mut SqlWriter,
    res: &Schema,
    first: &[Filter],
    rest: &[Filter],
    bound: Option<Bounded>,
    ret: Option<&[Column]>,
) {
    chosen_rows(w, res, first, rest, bound);
    w.push("DELETE FROM ").ident(res.model.table);
    where_capped(w, res, first, rest, bound);
    returning(w, res, ret);
}

/// Whether a bounded write ([`where_capped`]) writes nothing over its bound on its own, so
/// that it may run without a transaction; else the caller rolls it back.
pub(crate) fn capped(w: &SqlWriter) -> bool {
    w.dialect.bound != Bound::Limited
}
