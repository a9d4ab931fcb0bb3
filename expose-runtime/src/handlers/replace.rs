//! `PUT /path/{id}`: the row with that key takes the body's values (every writable field), or
//! is inserted with that key when there is none (PostgREST's single-row upsert): 200 or 201
//! with the row, guarded by `If-Match` like an update.

use super::create::create_in_tx;
use super::idempotency::{self, Answer, Keying};
use super::update::{update_in_tx, ByKey, Write};
use super::write_embeds;
use super::*;

pub(crate) async fn replace(
    res: &Resource,
    mut req: Req<'_>,
    key: &str,
    body_limit: usize,
    keep: Option<std::time::Duration>,
    body: Body,
) -> Result<Response, Problem> {
    let policy = policy_of(res, OperationKind::Replace)?;
    let op = policy.op;
    let mut by = ByKey::read(res, OperationKind::Replace, policy, &req, key, "replace").await?;
    let columns = &by.answer.columns;
    let prefer = query::prefer(&req.headers)?;
    let writable = narrow_writable(policy.fields, by.prepared.fields);
    let bytes = body::read(&req.headers, body, body_limit).await?;
    let held = match idempotency::keying(res, &mut req, keep, &bytes).await? {
        Keying::Replay(answer) => return Ok(answer),
        Keying::Run(held) => held,
    };
    let keyed = held.as_ref().map(|(k, _)| k);
    // The key may be in the body too (PostgREST sends it), and must then be the path's.
    let mut with_key = writable;
    with_key.insert(res.key);
    let ctx = by.prepared.ctx.take();
    let mut values = write_input(res, op, with_key, ctx.as_deref(), &bytes, false)?;
    if let Some(at) = values.iter().position(|(i, _)| *i == res.key) {
        let (_, sent_key) = values.remove(at);
        if sent_key != by.key {
            return Err(Problem::bad_request(format!(
                "the body's `{}` is not the key in the path; a PUT cannot move a row",
                res.key_field().name
            ))
            .with_offender(Offender {
                name: res.key_field().name.to_owned(),
                location: "body",
                rule: None,
                detail: "differs from the path's key".into(),
            }));
        }
    }
    let missing: Vec<Offender> = writable
        .iter()
        .filter(|i| *i != res.key && !values.iter().any(|(j, _)| j == i))
        .map(|i| Offender {
            name: res.field(i).name.to_owned(),
            location: "body",
            rule: None,
            detail: "is required: a PUT replaces the whole row, so it names every writable field"
                .into(),
        })
        .collect();
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|o| o.name.as_str()).collect();
        return Err(Problem::unprocessable(
            format!("the body lacks fields: {}", names.join(", ")),
            missing,
        ));
    }
    let minimal = matches!(prefer.ret, Some(Return::Minimal | Return::HeadersOnly));
    let write = by.write(keyed.map(|k| (k, minimal)), !minimal);
    let sent = req.sent;
    let (out, etag, created) = on_backend!(
        &req.db,
        replace_in(sent, res, op, ctx, columns, values, write)
    )?;
    let status = match created {
        true => StatusCode::CREATED,
        false => StatusCode::OK,
    };
    let response = match minimal {
        true if created => StatusCode::CREATED.into_response(),
        true => StatusCode::NO_CONTENT.into_response(),
        false => json_response(status, out),
    };
    let mut response = with_etag(response, &etag);
    applied(response.headers_mut(), &prefer);
    Ok(response)
}

/// Updates the row when it exists within the scope, else inserts it with the path's key;
/// whether it was inserted.
#[allow(clippy::too_many_arguments)]
async fn replace_in<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<Box<HookCtx>>,
    columns: &[Column],
    mut values: Vec<(usize, Value)>,
    write: Write<'_>,
) -> Result<(Vec<u8>, ETag, bool), Problem> {
    let map = |e| db_error::map_writing(res, e);
    let (selected, appended) = single_row_columns(res, columns);
    let cols = (columns, &*selected, appended);
    let mut tx = sent.begin(pool).await.map_err(map)?;
    let exists = current_row::<B>(tx.conn(), res, &write.key, write.scope)
        .await?
        .is_some();
    let (mut out, etag, mut tx, created) = if exists {
        let one = update_in_tx::<B>(tx, res, op, ctx.as_deref_mut(), cols, values, &write).await?;
        let (out, etag, tx) = one.ok_or_else(|| not_found(res, "the row"))?;
        (out, etag, tx, false)
    } else {
        if write.if_match.is_some() {
            return Err(stale());
        }
        values.push((res.key, write.key.clone()));
        let (_, out, etag, back) = create_in_tx::<B>(
            tx,
            res,
            op,
            ctx.as_deref_mut(),
            cols,
            values,
            write.with_check,
        )
        .await?;
        tx = back;
        (out, etag, tx, true)
    };
    if let Some(embeds) = write.embeds {
        write_embeds::embed_answer::<B>(tx.conn(), res, embeds, &mut out).await?;
    }
    if let Some((k, minimal)) = write.keyed {
        let status = match (created, minimal) {
            (true, _) => StatusCode::CREATED,
            (false, true) => StatusCode::NO_CONTENT,
            (false, false) => StatusCode::OK,
        };
        let answer = Answer {
            status,
            location: None,
            etag: etag.header_value().to_str().ok().map(str::to_owned),
            body: (!minimal).then(|| out.clone()),
        };
        idempotency::store::<B>(tx.conn(), res, k, &answer).await?;
    }
    tx.commit().await.map_err(map)?;
    Ok((out, etag, created))
}
