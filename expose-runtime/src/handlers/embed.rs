//! Embedded resources of a read: the caller's access to each embedded model, its list's
//! `pre` hooks, and the rows. A to-one embed that embeds nothing itself is joined in the
//! read's own statement ([`Layout`]); the others are fetched after it, one statement per
//! relation level whatever the number of parents (their keys bound in `IN (...)`, 1000 at
//! most per statement), each row rendered once and placed under its parents.

use super::*;
use crate::hooks::BoxFuture;
use crate::query::{Access, EmbedPlan};
use crate::schema::{Related, Schema};
/// The maps an embed's rows are grouped in (keys from the database: a fast hash, seeded
/// per process).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Most parent keys bound in one statement (SQLite binds at most 32766 values, PostgreSQL
/// 65535).
const KEYS_PER_STATEMENT: usize = 1000;

/// What a request needs to plan and run its embeds: one hook context per embedded model,
/// made when the planner first asks for that model.
pub(super) struct Guests {
    root: &'static str,
    /// (model path, context) of each model asked for, with its list's `pre` hooks.
    contexts: Vec<(&'static str, &'static [crate::model::Hook], HookCtx)>,
}

impl Guests {
    pub(super) fn new(res: &Resource) -> Guests {
        Guests {
            root: res.model.path,
            contexts: Vec::new(),
        }
    }

    /// The caller's access to `related` (the readable fields of its list, else of its
    /// retrieve, narrowed by `fields_for`; its scope), computed from a hook context of that
    /// operation with [`HookCtx::embedded_in`].
    pub(super) fn access(&mut self, req: &Req<'_>, related: &Related) -> Result<Access, Problem> {
        let op = related.policy.op;
        let ctx = hook_ctx(op.kind, req, None, Some(self.root));
        let scope = match op.scope {
            Some(f) => scope_filters(op.kind, &f(&ctx)?).0,
            None => Vec::new(),
        };
        let mut readable = related.policy.fields;
        if let Some(f) = op.fields_for {
            let mut bits = u64::MAX;
            f(&ctx, &mut bits)?;
            readable = FieldSet(readable.0 & bits);
            readable.insert(related.schema.key);
        }
        if !op.pre.is_empty() {
            self.contexts.push((related.schema.model.path, op.pre, ctx));
        }
        Ok(Access { readable, scope })
    }

    /// Runs each embedded model's list (else retrieve) `pre` hooks, once; a refusal refuses
    /// the request.
    /// A statement a hook runs is in a transaction of its own, rolled back after it.
    pub(super) async fn run_pre_hooks(self) -> Result<(), Problem> {
        for (_, hooks, mut ctx) in self.contexts {
            run_read_hooks(hooks, &mut ctx).await?;
        }
        Ok(())
    }
}

/// A parent row: its JSON object (left open) and the value of each embed's link field.
pub(super) struct Node {
    json: Vec<u8>,
    links: Vec<Value>,
    /// The members of the embeds joined in its statement, when [`attach`] writes them
    /// among the others, in `select`'s order.
    parts: Option<Box<Parts>>,
}

/// The members of a parent's joined embeds, kept for [`attach`].
struct Parts {
    /// Which embeds (by index) were joined.
    mask: u64,
    /// Their members, one after the other (a spread embed's without braces).
    bytes: Vec<u8>,
    /// Where each ends in `bytes`.
    ends: Vec<usize>,
}

impl Parts {
    /// The members of embed `j`, when it was joined.
    fn of(&self, j: usize) -> Option<std::ops::Range<usize>> {
        if j >= 64 || self.mask & (1 << j) == 0 {
            return None;
        }
        let k = (self.mask & ((1 << j) - 1)).count_ones() as usize;
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        Some(start..self.ends[k])
    }
}

/// A read's statement with its to-one embeds joined ([`sql::list_of`], [`sql::by_key_joined`]):
/// what it selects and where each embed is read. An embed is joined when it is to-one and
/// embeds nothing itself (among the first [`sql::JOINED`]); the others are fetched after
/// the statement by [`attach`].
pub(super) struct Layout<'a> {
    /// The parent's columns, then the link field of each embed fetched after it; the
    /// statement selects each joined embed's key and columns after these.
    pub(super) all: Vec<Column>,
    /// How many of `all` are the parent's, shown.
    pub(super) shown: usize,
    /// The embeds joined, in order.
    pub(super) joins: Vec<&'a EmbedPlan>,
    /// Which embeds (by index) are joined.
    mask: u64,
    embeds: &'a [EmbedPlan],
}

impl<'a> Layout<'a> {
    /// The layout of a read of `columns` with `embeds`.
    pub(super) fn new(columns: &[Column], embeds: &'a [EmbedPlan]) -> Layout<'a> {
        let mut all = columns.to_vec();
        let (mut joins, mut mask) = (Vec::new(), 0u64);
        for (j, e) in embeds.iter().enumerate() {
            if !e.link.many
                && e.through.is_none()
                && e.embeds.is_empty()
                && j < 64
                && joins.len() < sql::JOINED.len()
            {
                joins.push(e);
                mask |= 1 << j;
            } else {
                all.push(Column {
                    field: e.link.parent,
                    alias: None,
                });
            }
        }
        Layout {
            all,
            shown: columns.len(),
            joins,
            mask,
            embeds,
        }
    }

    fn joined(&self, j: usize) -> bool {
        j < 64 && self.mask & (1 << j) != 0
    }

    /// Whether every embed is joined: the statement's rows are the whole answer
    /// ([`write_joined_row`]).
    pub(super) fn direct(&self) -> bool {
        self.joins.len() == self.embeds.len()
    }

    /// What each joined embed writes when its parent has no row there: `"name":`, or
    /// (spread) each of its fields `null`.
    pub(super) fn heads(&self, res: &Schema) -> Result<Vec<Vec<u8>>, sqlx::Error> {
        self.joins
            .iter()
            .map(|e| {
                let child = &res.related[e.target].schema;
                match e.spread {
                    true => null_members(child, e),
                    false => {
                        let mut head = serde_json::to_vec(&e.name)
                            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                        head.push(b':');
                        Ok(head)
                    }
                }
            })
            .collect()
    }
}

/// One parent row of a [`Layout`]'s statement, when embeds are fetched after it: its shown
/// columns rendered, its joined embeds kept in its [`Parts`], the link fields of the others
/// read.
fn joined_node<B: Driver>(
    res: &Schema,
    layout: &Layout<'_>,
    heads: &[Vec<u8>],
    row: &B::Row,
) -> Result<Node, sqlx::Error> {
    let mut json = Vec::with_capacity(128);
    let mut links = Vec::with_capacity(layout.embeds.len());
    let mut parts = Box::new(Parts {
        mask: layout.mask,
        bytes: Vec::new(),
        ends: Vec::new(),
    });
    write_joined::<B>(
        res,
        layout,
        heads,
        row,
        &mut json,
        Some((&mut links, &mut parts)),
    )?;
    Ok(Node {
        json,
        links,
        parts: Some(parts),
    })
}

/// Writes one row of a [`Layout`]'s statement whose embeds are all joined: its object,
/// the embeds among its members.
pub(super) fn write_joined_row<B: Driver>(
    res: &Schema,
    layout: &Layout<'_>,
    heads: &[Vec<u8>],
    row: &B::Row,
    out: &mut Vec<u8>,
) -> Result<(), sqlx::Error> {
    write_joined::<B>(res, layout, heads, row, out, None)?;
    out.push(b'}');
    Ok(())
}

/// Writes a row's shown columns into `json` (an object left open) and its joined embeds
/// after them, or, with `rest`, into its [`Parts`] (the fetched embeds' link fields read
/// into its links, a placeholder for each joined one).
fn write_joined<B: Driver>(
    res: &Schema,
    layout: &Layout<'_>,
    heads: &[Vec<u8>],
    row: &B::Row,
    json: &mut Vec<u8>,
    mut rest: Option<(&mut Vec<Value>, &mut Parts)>,
) -> Result<(), sqlx::Error> {
    let start = json.len();
    output::write_row::<B>(res, &layout.all[..layout.shown], row, json)?;
    json.pop();
    let (mut link, mut at, mut k) = (layout.shown, layout.all.len(), 0);
    for (j, e) in layout.embeds.iter().enumerate() {
        if !layout.joined(j) {
            if let Some((links, _)) = &mut rest {
                links.push(link_at::<B>(res, row, link, e.link.parent)?);
            }
            link += 1;
            continue;
        }
        let child = &res.related[e.target].schema;
        // Its key, before its columns, or one of its columns that is never null.
        let null = B::is_null(row, at + e.presence.unwrap_or(0))?;
        let at_columns = at + usize::from(e.presence.is_none());
        let empty = e.spread && e.columns.is_empty();
        if rest.is_none() && !empty && json.len() > start + 1 {
            json.push(b',');
        }
        let out = match &mut rest {
            Some((_, parts)) => &mut parts.bytes,
            None => &mut *json,
        };
        match (e.spread, null) {
            (_, _) if empty => {}
            (true, true) => out.extend_from_slice(&heads[k]),
            (true, false) => output::write_members::<B>(child, &e.columns, row, at_columns, out)?,
            (false, true) => {
                out.extend_from_slice(&heads[k]);
                out.extend_from_slice(b"null");
            }
            (false, false) => {
                out.extend_from_slice(&heads[k]);
                output::write_row_from::<B>(child, &e.columns, row, at_columns, out)?;
            }
        }
        if let Some((links, parts)) = &mut rest {
            links.push(Value::Null(crate::field_type::FieldType::I64));
            parts.ends.push(parts.bytes.len());
        }
        at = at_columns + e.columns.len();
        k += 1;
    }
    Ok(())
}

/// Runs a [`Layout`]'s statement: every row rendered with its embeds, joined and fetched;
/// the rows' objects, in order.
pub(super) async fn read_joined<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    sql: &str,
    args: &[Value],
    layout: &Layout<'_>,
) -> Result<Vec<Vec<u8>>, sqlx::Error> {
    let heads = layout.heads(res)?;
    if layout.direct() {
        let mut rows = Vec::new();
        let mut collect = |row: &B::Row| {
            let mut json = Vec::with_capacity(128);
            write_joined_row::<B>(res, layout, &heads, row, &mut json)?;
            rows.push(json);
            Ok(())
        };
        B::fetch_each(conn, sql, args, &mut collect).await?;
        return Ok(rows);
    }
    let mut parents: Vec<Node> = Vec::new();
    let mut collect = |row: &B::Row| {
        parents.push(joined_node::<B>(res, layout, &heads, row)?);
        Ok(())
    };
    B::fetch_each(conn, sql, args, &mut collect).await?;
    attach::<B>(conn, res, &mut parents, layout.embeds).await?;
    Ok(parents.into_iter().map(close).collect())
}

impl Node {
    /// A parent rendered elsewhere (a write's answer): its object without the closing
    /// brace, and the value of each embed's link field.
    pub(super) fn open(json: Vec<u8>, links: Vec<Value>) -> Node {
        Node {
            json,
            links,
            parts: None,
        }
    }
}

/// `columns`, then the field each embed joins on (the plan's columns come first, the rest
/// are read and not shown).
pub(super) fn with_links(columns: &[Column], embeds: &[EmbedPlan]) -> Vec<Column> {
    let mut all = columns.to_vec();
    all.extend(embeds.iter().map(|e| Column {
        field: e.link.parent,
        alias: None,
    }));
    all
}

/// One row's node: `shown` columns rendered, the link fields after them read.
pub(super) fn node<B: Driver>(
    schema: &Schema,
    all: &[Column],
    shown: usize,
    row: &B::Row,
) -> Result<Node, sqlx::Error> {
    let mut json = Vec::with_capacity(64);
    output::write_row::<B>(schema, &all[..shown], row, &mut json)?;
    json.pop();
    let links = all[shown..]
        .iter()
        .enumerate()
        .map(|(j, c)| link_at::<B>(schema, row, shown + j, c.field))
        .collect::<Result<_, _>>()?;
    Ok(Node {
        json,
        links,
        parts: None,
    })
}

/// Column `i` of `row`, a link field's value (`field`), which the embed's rows are grouped
/// by: read as it is (an integer, a text, a UUID), else through its JSON
/// ([`output::value_at`]).
fn link_at<B: Driver>(
    res: &Schema,
    row: &B::Row,
    i: usize,
    field: usize,
) -> Result<Value, sqlx::Error> {
    use crate::field_type::FieldType as T;
    match res.ty(field) {
        ty @ (T::I16 | T::I32 | T::I64 | T::Text | T::Uuid) => B::read_field(row, i, ty),
        _ => output::value_at::<B>(res, row, i, field),
    }
}

/// The node's finished JSON object.
pub(super) fn close(mut node: Node) -> Vec<u8> {
    node.json.push(b'}');
    node.json
}

/// What an embed's rows are grouped by: their link's value (an integer as it is, any other
/// by its text), none for `NULL`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum GroupKey {
    Int(i64),
    Other(String),
}

fn group_key(v: &Value) -> Option<GroupKey> {
    match v {
        Value::Null(_) => None,
        Value::I64(n) => Some(GroupKey::Int(*n)),
        Value::I32(n) => Some(GroupKey::Int(i64::from(*n))),
        Value::I16(n) => Some(GroupKey::Int(i64::from(*n))),
        v => Some(GroupKey::Other(format!("{v:?}"))),
    }
}

/// Writes a row rendered by `write` into its group: to-many, the next item of an array
/// (opened by the first, closed by the caller); to-one, the first row only.
fn place(
    groups: &mut HashMap<GroupKey, Vec<u8>>,
    key: GroupKey,
    many: bool,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), sqlx::Error>,
) -> Result<(), sqlx::Error> {
    let g = groups
        .entry(key)
        .or_insert_with(|| Vec::with_capacity(if many { 256 } else { 64 }));
    if many {
        g.push(if g.is_empty() { b'[' } else { b',' });
        write(g)
    } else if g.is_empty() {
        write(g)
    } else {
        Ok(())
    }
}

/// Fetches the rows of each embed under `parents` and writes them into the parents'
/// objects, level by level.
pub(super) fn attach<'a, B: Driver>(
    conn: &'a mut B::Connection,
    root: &'a Schema,
    parents: &'a mut [Node],
    embeds: &'a [EmbedPlan],
) -> BoxFuture<'a, Result<(), sqlx::Error>> {
    Box::pin(async move {
        for (j, e) in embeds.iter().enumerate() {
            let joined = parents.first().and_then(|p| p.parts.as_ref()?.of(j));
            if joined.is_some() {
                for p in parents.iter_mut() {
                    let Some(part) = p.parts.as_ref().and_then(|x| x.of(j)) else {
                        continue;
                    };
                    let Some(parts) = &p.parts else { continue };
                    if !part.is_empty() && p.json.len() > 1 {
                        p.json.push(b',');
                    }
                    p.json.extend_from_slice(&parts.bytes[part]);
                }
                continue;
            }
            let child = &root.related[e.target].schema;
            let mut keys: Vec<Value> = Vec::new();
            let mut seen: std::collections::HashSet<_, foldhash::fast::RandomState> =
                Default::default();
            for p in parents.iter() {
                if let Some(k) = group_key(&p.links[j]) {
                    if seen.insert(k) {
                        keys.push(p.links[j].clone());
                    }
                }
            }
            let all = {
                let mut all = e.columns.clone();
                all.push(Column {
                    field: e.link.child,
                    alias: None,
                });
                with_links(&all, &e.embeds)
            };
            let shown = e.columns.len();
            let fields: Vec<usize> = all.iter().map(|c| c.field).collect();
            let mut children: Vec<Node> = Vec::new();
            let mut groups: HashMap<GroupKey, Vec<u8>> = HashMap::default();
            // Rows that embed nothing are written into their groups as they arrive.
            let leaf = e.embeds.is_empty();
            // A many-to-many embed reads its rows through the join table, in `through`.
            let direct: &[Value] = match &e.through {
                Some(via) => {
                    through::<B>(conn, root, e, via, &keys, &all, &mut children).await?;
                    &[]
                }
                None => &keys,
            };
            for chunk in direct.chunks(KEYS_PER_STATEMENT) {
                let mut w = SqlWriter::new(B::DIALECT);
                sql::embedded(&mut w, child, &fields, e, chunk);
                let mut collect = |row: &B::Row| {
                    if leaf {
                        let link = link_at::<B>(child, row, shown, e.link.child)?;
                        if let Some(k) = group_key(&link) {
                            place(&mut groups, k, e.link.many, |g| {
                                output::write_row::<B>(child, &all[..shown], row, g)
                            })?;
                        }
                        return Ok(());
                    }
                    // The link to the parent is read like the nested links, and comes first.
                    children.push(node::<B>(child, &all, shown, row)?);
                    Ok(())
                };
                B::fetch_each(conn, &w.sql, &w.args, &mut collect).await?;
            }
            if !e.embeds.is_empty() {
                // Each child's own links come after its link to the parent.
                let mut nested: Vec<Node> = children
                    .iter_mut()
                    .map(|c| Node {
                        json: std::mem::take(&mut c.json),
                        links: c.links.split_off(1),
                        parts: None,
                    })
                    .collect();
                attach::<B>(conn, root, &mut nested, &e.embeds).await?;
                for (c, n) in children.iter_mut().zip(nested) {
                    c.json = n.json;
                }
            }
            for c in children {
                let Some(k) = group_key(&c.links[0]) else {
                    continue;
                };
                place(&mut groups, k, e.link.many, |g| {
                    g.extend_from_slice(&close(c));
                    Ok(())
                })?;
            }
            if e.link.many {
                for g in groups.values_mut() {
                    g.push(b']');
                }
            }
            if e.spread {
                spread(child, e, &groups, parents, j)?;
                continue;
            }
            let name = serde_json::to_vec(&e.name).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            for p in parents.iter_mut() {
                if p.json.len() > 1 {
                    p.json.push(b',');
                }
                p.json.extend_from_slice(&name);
                p.json.push(b':');
                let group = group_key(&p.links[j]).and_then(|k| groups.get(&k));
                match (group, e.link.many) {
                    (Some(g), _) => p.json.extend_from_slice(g),
                    (None, true) => p.json.extend_from_slice(b"[]"),
                    (None, false) => p.json.extend_from_slice(b"null"),
                }
            }
        }
        Ok(())
    })
}

/// The rows of a many-to-many embed under the parents whose keys are `keys`, read through
/// the join table (one statement per [`KEYS_PER_STATEMENT`] keys): each row's node as
/// [`attach`] makes it, but linked to its parent by the join row's reference to the parent
/// (a row linked to two parents is read twice, once for each).
async fn through<B: Driver>(
    conn: &mut B::Connection,
    root: &Schema,
    e: &EmbedPlan,
    via: &crate::filter::Via,
    keys: &[Value],
    all: &[Column],
    children: &mut Vec<Node>,
) -> Result<(), sqlx::Error> {
    let child = &root.related[e.target].schema;
    let join = &root.related[via.join].schema;
    let fields: Vec<usize> = all.iter().map(|c| c.field).collect();
    let shown = e.columns.len();
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let mut w = SqlWriter::new(B::DIALECT);
        sql::embedded_through(&mut w, child, join, &fields, e, via, chunk);
        let mut collect = |row: &B::Row| {
            let mut n = node::<B>(child, all, shown, row)?;
            // The parent's key, read after the row's columns, replaces the link read first.
            n.links[0] = output::value_at::<B>(join, row, all.len(), via.parent)?;
            children.push(n);
            Ok(())
        };
        B::fetch_each(conn, &w.sql, &w.args, &mut collect).await?;
    }
    Ok(())
}

/// Writes a spread to-one embed's fields among each parent's: its row's members, or each
/// field `null` when it has none.
fn spread(
    child: &Schema,
    e: &EmbedPlan,
    groups: &HashMap<GroupKey, Vec<u8>>,
    parents: &mut [Node],
    j: usize,
) -> Result<(), sqlx::Error> {
    let nulls = null_members(child, e)?;
    for p in parents.iter_mut() {
        let members = match group_key(&p.links[j]).and_then(|k| groups.get(&k)) {
            // The row's object without its braces.
            Some(g) => &g[1..g.len() - 1],
            None => &nulls[..],
        };
        if members.is_empty() {
            continue;
        }
        if p.json.len() > 1 {
            p.json.push(b',');
        }
        p.json.extend_from_slice(members);
    }
    Ok(())
}

/// A spread embed's members when its parent has no row there: each field `null`.
fn null_members(child: &Schema, e: &EmbedPlan) -> Result<Vec<u8>, sqlx::Error> {
    let mut nulls = Vec::new();
    for (i, c) in e.columns.iter().enumerate() {
        if i > 0 {
            nulls.push(b',');
        }
        match &c.alias {
            Some(a) => {
                serde_json::to_writer(&mut nulls, a)
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                nulls.push(b':');
            }
            None => nulls.extend_from_slice(&child.json_keys[c.field]),
        }
        nulls.extend_from_slice(b"null");
    }
    Ok(nulls)
}
