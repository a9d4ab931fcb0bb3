//! `GET /path/{id}`: one row, with an `ETag`; `If-None-Match` answers 304.

use super::*;

pub(crate) async fn retrieve(
    res: &Resource,
    mut req: Req<'_>,
    key: &str,
) -> Result<Response, Problem> {
    let key_value = parse_key(res, key)?;
    let (policy, prepared) = prepare(res, OperationKind::Retrieve, &req, Some(key_value.clone()))?;
    let op = policy.op;
    let pairs = query::pairs(req.parts.uri.query());
    if embeds_asked(&pairs) {
        return embedded(res, req, key, key_value, policy, prepared, pairs).await;
    }
    only_params(&pairs, &["select"], "retrieve")?;
    query::require_json(&req.headers)?;
    let if_none_match = conditional::if_none_match(&req.headers);
    req.release_headers();
    let readable = narrow_readable(res, policy.fields, prepared.fields);
    let columns = select_columns(res, readable, &pairs)?;
    let mut filters = policy.forced.clone();
    filters.extend(prepared.scope);
    let sent = req.sent;
    let (out, etag) = on_backend!(
        &req.db,
        retrieve_in(sent, res, op, prepared.ctx, &columns, key_value, &filters)
    )?
    .ok_or_else(|| not_found(res, key))?;
    if if_none_match.is_some_and(|t| t.matches_weak(&etag)) {
        return Ok(with_etag(StatusCode::NOT_MODIFIED.into_response(), &etag));
    }
    Ok(with_etag(json_response(StatusCode::OK, out), &etag))
}

#[allow(clippy::too_many_arguments)]
async fn retrieve_in<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<Box<HookCtx>>,
    columns: &[Column],
    key: Value,
    filters: &[Filter],
) -> Result<Option<(Vec<u8>, ETag)>, Problem> {
    let map = |e| db_error::map(res, e);
    let (selected, appended) = single_row_columns(res, columns);
    let (sql, args) = by_key_statement::<B>(res, &selected, key, filters);
    let (out, etag) = match ctx.as_deref_mut().filter(|_| has_hooks(op)) {
        None => {
            let row = B::fetch_optional_pooled(pool, &sql, &args)
                .await
                .map_err(map)?;
            let Some(row) = row else {
                return Ok(None);
            };
            // Taken once the row is here, not before the query: a buffer held across the
            // await is one more block per request in flight, which at 32 connections
            // outnumbers glibc's per-thread cache of its size (DHAT, `bench/PROFILE.md`).
            let mut out = res.row_buffer();
            let etag = render_one::<B>(res, columns, &row, appended, &mut out)?;
            (out, etag)
        }
        // Boxed, so that the hooks' futures do not make every retrieve's state larger.
        Some(ctx) => {
            let read = Box::pin(read_hooked::<B>(
                pool,
                sent,
                res,
                op,
                ctx,
                columns,
                (&sql, &args),
                appended,
            ));
            match read.await? {
                Some(read) => read,
                None => return Ok(None),
            }
        }
    };
    Ok(Some((out, etag)))
}

/// A retrieve with hooks: between the `pre` and `post` hooks, in the transaction a hook
/// began when one ran a statement, else on a pooled connection.
#[allow(clippy::too_many_arguments)]
async fn read_hooked<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    ctx: &mut HookCtx,
    columns: &[Column],
    (sql, args): (&str, &[Value]),
    appended: bool,
) -> Result<Option<(Vec<u8>, ETag)>, Problem> {
    let map = |e| db_error::map(res, e);
    run_read_hooks(op.pre, ctx).await?;
    let row = match read_tx::<B>(ctx) {
        Some(mut tx) => {
            let row = B::fetch_optional(&mut tx, sql, args).await;
            ctx.tx = Some(B::wrap_tx(tx));
            row
        }
        None => B::fetch_optional_pooled(pool, sql, args).await,
    };
    let Some(row) = row.map_err(map)? else {
        return Ok(None);
    };
    let mut out = res.row_buffer();
    let etag = render_one::<B>(res, columns, &row, appended, &mut out)?;
    read_post_hooks(op, ctx, &mut out).await?;
    finish_read::<B>(sent, ctx).await.map_err(map)?;
    Ok(Some((out, etag)))
}

/// Whether a retrieve's query asks for embedded resources.
fn embeds_asked(pairs: &[(String, String)]) -> bool {
    pairs.iter().any(|(k, v)| {
        (k == "select" && v.contains('(')) || query::grammar::split_embedded(k).is_some()
    })
}

/// A retrieve with embedded resources: the row and its embeds, with an `ETag` of the whole
/// answer (so `If-None-Match` sees a change of an embedded row too).
#[allow(clippy::too_many_arguments)]
async fn embedded(
    res: &Resource,
    mut req: Req<'_>,
    key: &str,
    key_value: Value,
    policy: &Policy,
    prepared: Prepared,
    pairs: Vec<(String, String)>,
) -> Result<Response, Problem> {
    let op = policy.op;
    let plain: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| query::grammar::split_embedded(k).is_none())
        .cloned()
        .collect();
    only_params(&plain, &["select"], "retrieve")?;
    query::require_json(&req.headers)?;
    let if_none_match = conditional::if_none_match(&req.headers);
    let limits = query::grammar::Limits {
        max_depth: op.max_depth,
        max_conditions: op.max_conditions,
        max_in_items: op.max_in_items,
    };
    let parsed =
        query::grammar::parse_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &limits)
            .map_err(|e| Problem::invalid_parameter(e.param, e.message))?;
    let readable = narrow_readable(res, policy.fields, prepared.fields);
    let (columns, embeds) = query::plan_read_select(res, readable, parsed.select)?;
    let mut guests = embed::Guests::new(res);
    let planned = {
        let req = &req;
        let mut access = |r: &crate::schema::Related| guests.access(req, r);
        query::plan_embeds(
            res,
            policy,
            embeds,
            parsed.embedded,
            Vec::new(),
            &mut access,
        )?
    };
    query::check_backend(
        res,
        &planned.parent_filters,
        &planned.tree,
        req.db.backend(),
    )?;
    let mut filters = policy.forced.clone();
    filters.extend(prepared.scope);
    filters.extend(planned.parent_filters);
    req.release_headers();
    guests.run_pre_hooks().await?;
    let read = Read {
        layout: embed::Layout::new(&columns, &planned.tree),
        key: key_value,
        filters: &filters,
    };
    let sent = req.sent;
    let out = on_backend!(
        &req.db,
        retrieve_embedded(sent, res, op, prepared.ctx, read)
    )?
    .ok_or_else(|| not_found(res, key))?;
    let etag = output::etag(&out);
    if if_none_match.is_some_and(|t| t.matches_weak(&etag)) {
        return Ok(with_etag(StatusCode::NOT_MODIFIED.into_response(), &etag));
    }
    Ok(with_etag(json_response(StatusCode::OK, out), &etag))
}

/// What a retrieve with embeds reads.
struct Read<'a> {
    layout: embed::Layout<'a>,
    key: Value,
    filters: &'a [Filter],
}

async fn retrieve_embedded<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<Box<HookCtx>>,
    read: Read<'_>,
) -> Result<Option<Vec<u8>>, Problem> {
    let map = |e| db_error::map(res, e);
    let mut w = SqlWriter::new(B::DIALECT);
    let layout = &read.layout;
    sql::by_key_joined(
        &mut w,
        res,
        &layout.all,
        &layout.joins,
        read.key,
        read.filters,
    );
    let hooked = ctx.as_deref_mut().filter(|_| has_hooks(op));
    if let Some(ctx) = hooked {
        run_read_hooks(op.pre, ctx).await?;
        let rows = match read_tx::<B>(ctx) {
            Some(mut tx) => {
                let rows = embed::read_joined::<B>(&mut tx, res, &w.sql, &w.args, layout).await;
                ctx.tx = Some(B::wrap_tx(tx));
                rows
            }
            None => {
                let mut conn = pool.acquire().await.map_err(map)?;
                embed::read_joined::<B>(&mut conn, res, &w.sql, &w.args, layout).await
            }
        };
        let Some(mut out) = rows.map_err(map)?.into_iter().next() else {
            return Ok(None);
        };
        read_post_hooks(op, ctx, &mut out).await?;
        finish_read::<B>(sent, ctx).await.map_err(map)?;
        return Ok(Some(out));
    }
    let mut conn = pool.acquire().await.map_err(map)?;
    let rows = embed::read_joined::<B>(&mut conn, res, &w.sql, &w.args, layout)
        .await
        .map_err(map)?;
    Ok(rows.into_iter().next())
}
