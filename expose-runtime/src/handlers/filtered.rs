//! `PATCH /path?<filters>` and `DELETE /path?<filters>`: an update or remove of every row
//! the filters choose, within the operation's filter whitelist, `where` and scope, and at
//! most its `max_affected` rows (PostgREST's writes; react-admin's `updateMany` and
//! `deleteMany`).

use super::batch::{self, remove_many_in, update_many_in, Batch, Cap, Reply};
use super::idempotency::{self, Keying};
use super::write_embeds::{self, Answer, WriteEmbeds};
use super::*;

/// The request's part of a write chosen by filters: its plan, checked.
fn plan(
    res: &Resource,
    policy: &Policy,
    req: &Req<'_>,
    scope: Vec<Filter>,
) -> Result<query::WritePlan, Problem> {
    let op = policy.op;
    let pairs = query::pairs(req.parts.uri.query());
    let mut plan = query::plan_write(res, policy, res.output, &pairs)?;
    query::check_backend(res, &plan.filters, &[], req.db.backend())?;
    if !plan.filtered && !op.unfiltered {
        let what = match op.kind {
            OperationKind::Remove => "DELETE",
            _ => "PATCH",
        };
        return Err(Problem::bad_request(format!(
            "a {what} on {} needs at least one filter, on {}; the model does not allow \
             writing every row at once",
            res.model.path,
            res.names(policy.filterable),
        )));
    }
    plan.filters.extend(scope);
    Ok(plan)
}

/// The answer's columns and embeds, planned (`select`'s embeds taken out of the plan).
async fn answer<'r>(
    res: &'r Resource,
    req: &Req<'_>,
    plan: &mut query::WritePlan,
) -> Result<Answer<'r>, Problem> {
    let columns = std::mem::take(&mut plan.columns);
    let embeds = std::mem::take(&mut plan.embeds);
    write_embeds::answer_embeds(res, req, columns, embeds).await
}

fn reply(prefer: &query::Prefer, headers: &HeaderMap) -> Reply {
    Reply {
        rows: prefer.ret == Some(Return::Representation),
        singular: query::wants_object(headers),
    }
}

/// The write's settings: its cap (the model's, or the request's `max-affected`, which is then
/// echoed as applied), `If-Match` and key; 200 with rows, 204 without.
fn settings<'a>(
    op: &Operation,
    prefer: &mut query::Prefer,
    reply: Reply,
    if_match: Option<&'a conditional::Tags>,
    keyed: Option<&'a idempotency::Keyed>,
    (with_check, embeds): (&'a [Filter], Option<&'a WriteEmbeds>),
) -> Batch<'a> {
    if let Some(n) = prefer.max_affected {
        prefer.apply(format!("max-affected={n}"));
    }
    Batch {
        reply,
        cap: Some(Cap::of(op, prefer)),
        if_match,
        keyed,
        status: (StatusCode::OK, StatusCode::NO_CONTENT),
        with_check,
        embeds: embeds.filter(|_| reply.rows),
    }
}

pub(crate) async fn update_many(
    res: &Resource,
    mut req: Req<'_>,
    body_limit: usize,
    keep: Option<std::time::Duration>,
    body: Body,
) -> Result<Response, Problem> {
    let (policy, prepared) = prepare(res, OperationKind::Update, &req, None)?;
    let op = policy.op;
    let mut plan = plan(res, policy, &req, prepared.scope)?;
    let answer = answer(res, &req, &mut plan).await?;
    let mut prefer = query::prefer(&req.headers)?;
    let reply = reply(&prefer, &req.headers);
    let if_match = precondition(op, &req.headers)?;
    let writable = narrow_writable(policy.fields, prepared.fields);
    let bytes = body::read(&req.headers, body, body_limit).await?;
    let held = match idempotency::keying(res, &mut req, keep, &bytes).await? {
        Keying::Replay(answer) => return Ok(answer),
        Keying::Run(held) => held,
    };
    let keyed = held.as_ref().map(|(k, _)| k);
    let values = write_input(res, op, writable, prepared.ctx.as_deref(), &bytes, false)?;
    let check = (prepared.check.as_slice(), answer.embeds.as_ref());
    let batch = settings(op, &mut prefer, reply, if_match.as_ref(), keyed, check);
    let sent = req.sent;
    let (filters, columns) = (&plan.filters, &*answer.columns);
    let mut written = on_backend!(
        &req.db,
        update_many_in(sent, res, op, prepared.ctx, values, filters, columns, batch)
    )?;
    Ok(batch::respond(
        &mut written,
        &prefer,
        OperationKind::Update,
        StatusCode::OK,
    ))
}

pub(crate) async fn remove_many(
    res: &Resource,
    mut req: Req<'_>,
    keep: Option<std::time::Duration>,
) -> Result<Response, Problem> {
    let (policy, prepared) = prepare(res, OperationKind::Remove, &req, None)?;
    let op = policy.op;
    let mut plan = plan(res, policy, &req, prepared.scope)?;
    let answer = answer(res, &req, &mut plan).await?;
    let mut prefer = query::prefer(&req.headers)?;
    let reply = reply(&prefer, &req.headers);
    let if_match = precondition(op, &req.headers)?;
    let held = match idempotency::keying(res, &mut req, keep, &[]).await? {
        Keying::Replay(answer) => return Ok(answer),
        Keying::Run(held) => held,
    };
    let keyed = held.as_ref().map(|(k, _)| k);
    let check = (&[][..], answer.embeds.as_ref());
    let batch = settings(op, &mut prefer, reply, if_match.as_ref(), keyed, check);
    let sent = req.sent;
    let (filters, columns) = (&plan.filters, &*answer.columns);
    let mut written = on_backend!(
        &req.db,
        remove_many_in(sent, res, op, prepared.ctx, filters, columns, batch)
    )?;
    Ok(batch::respond(
        &mut written,
        &prefer,
        OperationKind::Remove,
        StatusCode::OK,
    ))
}
