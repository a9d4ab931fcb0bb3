//! Embedded resources of a read: the caller's access to each embedded model, its list's
//! `pre` hooks, and the rows, one statement per relation level whatever the number of
//! parents (their keys bound in `IN (...)`, 1000 at most per statement), each row rendered
//! once and placed under its parents.

use super::*;
use crate::hooks::BoxFuture;
use crate::query::{Access, EmbedPlan};
use crate::schema::{Related, Schema};
use std::collections::HashMap;

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
}

impl Node {
    /// A parent rendered elsewhere (a write's answer): its object without the closing
    /// brace, and the value of each embed's link field.
    pub(super) fn open(json: Vec<u8>, links: Vec<Value>) -> Node {
        Node { json, links }
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
        .map(|(j, c)| output::value_at::<B>(schema, row, shown + j, c.field))
        .collect::<Result<_, _>>()?;
    Ok(Node { json, links })
}

/// The node's finished JSON object.
pub(super) fn close(mut node: Node) -> Vec<u8> {
    node.json.push(b'}');
    node.json
}

fn group_key(v: &Value) -> Option<String> {
    match v {
        Value::Null(_) => None,
        v => Some(format!("{v:?}")),
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
            let child = &root.related[e.target].schema;
            let mut keys: Vec<Value> = Vec::new();
            let mut seen = std::collections::HashSet::new();
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
            for chunk in keys.chunks(KEYS_PER_STATEMENT) {
                let mut w = SqlWriter::new(B::DIALECT);
                sql::embedded(&mut w, child, &fields, e, chunk);
                let mut collect = |row: &B::Row| {
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
                    })
                    .collect();
                attach::<B>(conn, root, &mut nested, &e.embeds).await?;
                for (c, n) in children.iter_mut().zip(nested) {
                    c.json = n.json;
                }
            }
            let mut groups: HashMap<String, Vec<u8>> = HashMap::new();
            for c in children {
                let Some(k) = group_key(&c.links[0]) else {
                    continue;
                };
                let g = groups.entry(k).or_default();
                if e.link.many {
                    g.push(if g.is_empty() { b'[' } else { b',' });
                    g.extend_from_slice(&close(c));
                } else if g.is_empty() {
                    g.extend_from_slice(&close(c));
                }
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

/// Writes a spread to-one embed's fields among each parent's: its row's members, or each
/// field `null` when it has none.
fn spread(
    child: &Schema,
    e: &EmbedPlan,
    groups: &HashMap<String, Vec<u8>>,
    parents: &mut [Node],
    j: usize,
) -> Result<(), sqlx::Error> {
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

/// Runs a read's statement for parents with embeds: every row rendered with its embeds;
/// the rows' objects, in order.
pub(super) async fn read<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    sql: &str,
    args: &[Value],
    all: &[Column],
    shown: usize,
    embeds: &[EmbedPlan],
) -> Result<Vec<Vec<u8>>, sqlx::Error> {
    let mut parents: Vec<Node> = Vec::new();
    let mut collect = |row: &B::Row| {
        parents.push(node::<B>(res, all, shown, row)?);
        Ok(())
    };
    B::fetch_each(conn, sql, args, &mut collect).await?;
    attach::<B>(conn, res, &mut parents, embeds).await?;
    Ok(parents.into_iter().map(close).collect())
}
