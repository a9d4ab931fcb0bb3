//! Embedded resources in a write's answer (`POST /posts?select=id,users(name)` with
//! `Prefer: return=representation`), PostgREST's way.
//!
//! The embeds are planned before the write, against the model's read policy (its
//! retrieve's when it has one that embeds, else its list's: what a direct read of the
//! written row by the same caller may embed, with that operation's whitelist, depth and row
//! cap), each embedded model under its own read policy exactly as for a read (readable
//! fields, `fields_for`, scope, `where`, its `pre` hooks, run before the write: a refusal
//! writes nothing). The write's statement returns the fields each embed joins on after the
//! answer's columns, as members with reserved names (`LINK`) at the end of each rendered
//! row; once every row is written, they are taken out and the embeds read on the write's
//! transaction, one statement per level whatever the number of rows
//! ([`embed::attach`]). `post` hooks see the row without them and without the embeds.

use super::embed::{self, Guests, Node};
use super::*;
use crate::query::EmbedPlan;
use std::collections::HashMap;

/// The start of a link member's name: a control character no field or alias has.
const LINK: &str = "\u{1}expose-link:";

/// The first link member's name as rendered in JSON (`"\u0001expose-link:0":`).
const FIRST_LINK: &[u8] = b"\"\\u0001expose-link:0\":";

/// A write's planned embeds.
pub(super) struct WriteEmbeds {
    tree: Vec<EmbedPlan>,
}

/// A write's answer: its columns (with the link fields last when it embeds), and its embeds.
pub(super) struct Answer<'r> {
    pub(super) columns: Cow<'r, [Column]>,
    pub(super) embeds: Option<WriteEmbeds>,
}

impl Answer<'_> {
    /// The embeds, unless the answer has no body (`return=minimal`).
    pub(super) fn embeds_if(&self, shown: bool) -> Option<&WriteEmbeds> {
        self.embeds.as_ref().filter(|_| shown)
    }
}

/// The read policy a write's answer embeds under ([`Resource::answer_policy`]).
fn read_policy(res: &Resource) -> Result<&Policy, Problem> {
    res.answer_policy().ok_or_else(|| {
        Problem::invalid_parameter(
            "select",
            format!(
                "{} has no list or retrieve, so a write's answer embeds no resource",
                res.model.path
            ),
        )
    })
}

/// Plans a single-row write's `select` (create, update, replace, action): its columns
/// within `res.output`, and its embeds; runs the embedded models' `pre` hooks.
pub(super) async fn answer_select<'r>(
    res: &'r Resource,
    req: &Req<'_>,
    pairs: &[(String, String)],
) -> Result<Answer<'r>, Problem> {
    let embeds = pairs.iter().any(|(k, v)| k == "select" && v.contains('('));
    if !embeds {
        return Ok(Answer {
            columns: select_columns(res, res.output, pairs)?,
            embeds: None,
        });
    }
    if pairs.iter().filter(|(k, _)| k == "select").count() > 1 {
        return Err(Problem::invalid_parameter(
            "select",
            "`select` may be given once; list every field in it",
        ));
    }
    let select = pairs
        .iter()
        .find(|(k, _)| k == "select")
        .map(|(_, v)| query::grammar::parse_select(v))
        .transpose()
        .map_err(|e| Problem::invalid_parameter(e.param, e.message))?;
    let (columns, embeds) = query::plan_read_select(res, res.output, select)?;
    answer_embeds(res, req, columns, embeds).await
}

/// Plans the embeds of a write's answer whose columns are planned: checked against the
/// read policy ([`read_policy`]) and each embedded model's, before anything is written.
pub(super) async fn answer_embeds<'r>(
    res: &'r Resource,
    req: &Req<'_>,
    columns: Vec<Column>,
    embeds: Vec<query::grammar::Embed>,
) -> Result<Answer<'r>, Problem> {
    if embeds.is_empty() {
        return Ok(Answer {
            columns: Cow::Owned(columns),
            embeds: None,
        });
    }
    // Boxed, so that a write without embeds does not carry this future's state.
    let planned = Box::pin(plan_embeds(res, req, columns, embeds));
    planned.await
}

/// [`answer_embeds`] with embeds: planned, checked for the backend, the embedded models'
/// `pre` hooks run; the link fields appended to the columns.
async fn plan_embeds<'r>(
    res: &'r Resource,
    req: &Req<'_>,
    mut columns: Vec<Column>,
    embeds: Vec<query::grammar::Embed>,
) -> Result<Answer<'r>, Problem> {
    if let Some(e) = embeds.iter().find(|e| e.inner) {
        return Err(Problem::invalid_parameter(
            "select",
            format!(
                "`{}!inner` chooses the rows a read returns; a write's answer shows every row \
                 it wrote: embed `{}(...)` without `!inner`",
                e.relation, e.relation
            ),
        ));
    }
    let policy = read_policy(res)?;
    let mut guests = Guests::new(res);
    let planned = {
        let mut access = |r: &crate::schema::Related| guests.access(req, r);
        query::plan_embeds(res, policy, embeds, Vec::new(), Vec::new(), &mut access)?
    };
    query::check_backend(res, &[], &planned.tree, req.db.backend())?;
    guests.run_pre_hooks().await?;
    columns.extend(planned.tree.iter().enumerate().map(|(j, e)| Column {
        field: e.link.parent,
        alias: Some(format!("{LINK}{j}")),
    }));
    Ok(Answer {
        columns: Cow::Owned(columns),
        embeds: Some(WriteEmbeds { tree: planned.tree }),
    })
}

/// Takes the link members out of a rendered row (`{..., "<link 0>": 5}`): the row keeps
/// its other members; the link members' text (without braces) is returned. `None` when the
/// row has none: its last members are not link members alone (a name with `:` is no alias,
/// and a value of a JSON field holding such a name is not at the top level).
pub(super) fn take_links(row: &mut Vec<u8>) -> Option<Vec<u8>> {
    let at = row
        .windows(FIRST_LINK.len())
        .rposition(|w| w == FIRST_LINK)?;
    let before = *row.get(at.checked_sub(1)?)?;
    if !matches!(before, b',' | b'{') || row.last() != Some(&b'}') {
        return None;
    }
    let links = row[at..row.len() - 1].to_vec();
    link_members(&links)?;
    row.truncate(if before == b',' { at - 1 } else { at });
    row.push(b'}');
    Some(links)
}

/// The link members' text (`"<link 0>":5,"<link 1>":"a"`) as a map from their names to
/// their values' JSON; `None` unless it is link members only.
fn link_members(links: &[u8]) -> Option<HashMap<String, Box<serde_json::value::RawValue>>> {
    let mut text = Vec::with_capacity(links.len() + 2);
    text.push(b'{');
    text.extend_from_slice(links);
    text.push(b'}');
    let members: HashMap<String, Box<serde_json::value::RawValue>> =
        serde_json::from_slice(&text).ok()?;
    members
        .keys()
        .all(|k| k.starts_with(LINK))
        .then_some(members)
}

/// Puts link members taken by [`take_links`] back at the end of a row (after `post` hooks
/// saw it without them); a row that is no longer an object keeps none.
pub(super) fn put_links(row: &mut Vec<u8>, links: Option<Vec<u8>>) {
    let Some(links) = links else { return };
    if row.first() != Some(&b'{') || row.last() != Some(&b'}') {
        return;
    }
    row.pop();
    if row.last() != Some(&b'{') {
        row.push(b',');
    }
    row.extend_from_slice(&links);
    row.push(b'}');
}

/// A rendered row of the answer as a parent of its embeds; `Err` (the row unchanged) when it
/// has no link members.
fn parent(res: &Resource, tree: &[EmbedPlan], mut row: Vec<u8>) -> Result<Node, Vec<u8>> {
    let Some(links) = take_links(&mut row) else {
        return Err(row);
    };
    let Some(members) = link_members(&links) else {
        return Err(row);
    };
    let mut values = Vec::with_capacity(tree.len());
    for (j, e) in tree.iter().enumerate() {
        let raw = members.get(&format!("{LINK}{j}"));
        match raw.map(|r| output::value_of_json(res, e.link.parent, r.get().as_bytes())) {
            Some(Ok(v)) => values.push(v),
            _ => return Err(row),
        }
    }
    row.pop();
    Ok(Node::open(row, values))
}

/// Writes the embeds into a write's answer (one object, or an array of them), reading them
/// on the write's connection (in its transaction), one statement per level.
pub(super) async fn embed_answer<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    embeds: &WriteEmbeds,
    body: &mut Vec<u8>,
) -> Result<(), Problem> {
    let array = body.first() == Some(&b'[');
    let rows: Vec<Vec<u8>> = match array {
        true => serde_json::from_slice::<Vec<&serde_json::value::RawValue>>(body)
            .map_err(|e| Problem::internal(&e))?
            .into_iter()
            .map(|r| r.get().as_bytes().to_vec())
            .collect(),
        false => vec![std::mem::take(body)],
    };
    let mut nodes = Vec::with_capacity(rows.len());
    let mut plain: Vec<Option<Vec<u8>>> = Vec::with_capacity(rows.len());
    for row in rows {
        match parent(res, &embeds.tree, row) {
            Ok(node) => {
                nodes.push(node);
                plain.push(None);
            }
            Err(row) => plain.push(Some(row)),
        }
    }
    embed::attach::<B>(conn, res, &mut nodes, &embeds.tree)
        .await
        .map_err(|e| db_error::map(res, e))?;
    let mut nodes = nodes.into_iter();
    let mut rows = plain.into_iter().map(|p| {
        p.or_else(|| nodes.next().map(embed::close))
            .unwrap_or_default()
    });
    body.clear();
    if !array {
        body.extend(rows.next().unwrap_or_default());
        return Ok(());
    }
    body.push(b'[');
    for (i, r) in rows.enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&r);
    }
    body.push(b']');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{put_links, take_links};

    #[test]
    fn link_members_come_out_and_go_back() {
        let mut row =
            br#"{"id":1,"t":"a,\"\u0001expose-link:0\":","\u0001expose-link:0":5}"#.to_vec();
        let links = take_links(&mut row);
        assert_eq!(
            row,
            br#"{"id":1,"t":"a,\"\u0001expose-link:0\":"}"#.to_vec()
        );
        assert_eq!(links.as_deref(), Some(&br#""\u0001expose-link:0":5"#[..]));
        put_links(&mut row, links);
        assert!(row.ends_with(br#"","\u0001expose-link:0":5}"#));
        let mut only = br#"{"\u0001expose-link:0":null}"#.to_vec();
        let links = take_links(&mut only);
        assert_eq!(only, b"{}".to_vec());
        put_links(&mut only, links);
        assert_eq!(only, br#"{"\u0001expose-link:0":null}"#.to_vec());
        let mut plain = br#"{"id":1}"#.to_vec();
        assert_eq!(take_links(&mut plain), None);
        // A JSON field's value that holds such a name is not a link member.
        let mut json = br#"{"id":1,"data":{"\u0001expose-link:0":5}}"#.to_vec();
        assert_eq!(take_links(&mut json), None);
        assert_eq!(
            json,
            br#"{"id":1,"data":{"\u0001expose-link:0":5}}"#.to_vec()
        );
    }
}
