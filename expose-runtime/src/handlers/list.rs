//! `GET /path`: a page of rows, filtered, ordered and counted as the query asks.

use super::count::{self, Total};
use super::*;
use crate::query::ListMedia;

pub(crate) async fn list(res: &Resource, mut req: Req<'_>) -> Result<Response, Problem> {
    let (policy, prepared) = prepare(res, OperationKind::List, &req, None)?;
    let op = policy.op;
    let narrowed;
    let policy = match prepared.fields {
        Some(by) => {
            let readable = narrow_readable(res, policy.fields, Some(by));
            narrowed = Policy {
                fields: readable,
                filterable: FieldSet(policy.filterable.0 & readable.0),
                sortable: FieldSet(policy.sortable.0 & readable.0),
                default_order: policy.default_order.clone(),
                forced: policy.forced.clone(),
                op: policy.op,
            };
            &narrowed
        }
        None => policy,
    };
    let pairs = query::pairs(req.parts.uri.query());
    let media = query::list_media(&req.headers)?;
    let range = query::range(&req.headers)?;
    let mut guests = embed::Guests::new(res);
    let mut plan = {
        let req = &req;
        let mut access = |r: &crate::schema::Related| guests.access(req, r);
        query::plan_list(res, policy, &pairs, range, &mut access)?
    };
    if !plan.embeds.is_empty() && media == ListMedia::Csv {
        return Err(Problem::new(
            StatusCode::NOT_ACCEPTABLE,
            "not-acceptable",
            "embedded resources are written as JSON only; ask for application/json, or select no embedded resource",
        ));
    }
    query::check_backend(res, &plan.filters, &plan.embeds, req.db.backend())?;
    plan.filters.extend(prepared.scope);
    let prefer = query::prefer(&req.headers)?;
    req.release_headers();
    guests.run_pre_hooks().await?;
    let sent = req.sent;
    on_backend!(
        &req.db,
        list_in(sent, res, op, prepared.ctx, plan, prefer, media)
    )
}

/// Runs the list statement, rendering each row as it arrives, and the count when asked, on
/// one connection; the number of rows and the total.
async fn list_rows<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    op: &Operation,
    plan: &query::ListPlan,
    (fetch, count, media): (u64, Option<query::Count>, ListMedia),
    out: &mut Vec<u8>,
) -> Result<(u64, Option<Total>), sqlx::Error> {
    let mut w = SqlWriter::new(B::DIALECT);
    let n = if plan.embeds.is_empty() {
        sql::list(&mut w, res, plan, fetch);
        out.reserve(64 + fetch.min(1000) as usize * 96);
        let mut page = output::Page::start(res, &plan.columns, media, out);
        let mut render = |row: &B::Row| page.row::<B>(row, out);
        B::fetch_each(conn, &w.sql, &w.args, &mut render).await?;
        page.finish(out)
    } else {
        let layout = embed::Layout::new(&plan.columns, &plan.embeds);
        sql::list_of(&mut w, res, &layout.all, &layout.joins, plan, fetch);
        if layout.direct() {
            // Every embed joined: each row is written as it arrives, as without embeds.
            let heads = layout.heads(res)?;
            let singular = media == ListMedia::Object;
            out.reserve(64 + fetch.min(1000) as usize * 128);
            if !singular {
                out.push(b'[');
            }
            let mut n = 0u64;
            let mut render = |row: &B::Row| {
                n += 1;
                if singular && n > 1 {
                    return Ok(());
                }
                if n > 1 {
                    out.push(b',');
                }
                embed::write_joined_row::<B>(res, &layout, &heads, row, out)
            };
            B::fetch_each(conn, &w.sql, &w.args, &mut render).await?;
            if !singular {
                out.push(b']');
            }
            return finish_rows::<B>(conn, res, op, plan, fetch, count, n).await;
        }
        let rows = embed::read_joined::<B>(conn, res, &w.sql, &w.args, &layout);
        let rows = rows.await?;
        // CSV is refused with embeds.
        match media {
            ListMedia::Object => out.extend(rows.first().into_iter().flatten()),
            _ => {
                out.push(b'[');
                for (i, r) in rows.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(r);
                }
                out.push(b']');
            }
        }
        rows.len() as u64
    };
    finish_rows::<B>(conn, res, op, plan, fetch, count, n).await
}

/// The number of rows a page read and, when asked, the total.
async fn finish_rows<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    op: &Operation,
    plan: &query::ListPlan,
    fetch: u64,
    count: Option<query::Count>,
    n: u64,
) -> Result<(u64, Option<Total>), sqlx::Error> {
    let total = match count {
        Some(count) => {
            let page = count::Page {
                offset: plan.offset,
                fetch,
                rows: n,
            };
            let total = count::total::<B>(conn, res, &plan.filters, count, page, op.max_limit);
            Some(total.await?)
        }
        None => None,
    };
    Ok((n, total))
}

#[allow(clippy::too_many_arguments)]
async fn list_in<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<Box<HookCtx>>,
    plan: query::ListPlan,
    mut prefer: query::Prefer,
    media: ListMedia,
) -> Result<Response, Problem> {
    let map = |e| db_error::map(res, e);
    let singular = media == ListMedia::Object;
    let fetch = if singular {
        plan.limit.min(2)
    } else {
        plan.limit
    };
    let (n, total, out) = match ctx.as_deref_mut().filter(|_| has_hooks(op)) {
        None => {
            let mut out = Vec::new();
            let mut conn = pool.acquire().await.map_err(map)?;
            let shape = (fetch, prefer.count, media);
            let (n, total) = list_rows::<B>(&mut conn, res, op, &plan, shape, &mut out)
                .await
                .map_err(map)?;
            past_end(&plan, total)?;
            singular_check(res, singular, n)?;
            (n, total, out)
        }
        // Boxed, so that the hooks' futures do not make every list's state larger.
        Some(ctx) => {
            let hooked = Box::pin(list_hooked::<B>(
                pool, sent, res, op, ctx, &plan, &prefer, fetch, media,
            ));
            hooked.await?
        }
    };
    let range = if n == 0 {
        "*".to_owned()
    } else {
        format!("{}-{}", plan.offset, plan.offset + n - 1)
    };
    let total_text = total.map_or_else(|| "*".to_owned(), |t| t.rows.to_string());
    // As PostgREST: 206 whenever fewer rows came back than the total, estimated or not.
    let status = match total {
        Some(t) if n < t.rows && !singular => StatusCode::PARTIAL_CONTENT,
        _ => StatusCode::OK,
    };
    let mut response = json_response(status, out);
    let h = response.headers_mut();
    match media {
        ListMedia::Array => {}
        ListMedia::Object => {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(query::OBJECT_JSON),
            );
        }
        ListMedia::Csv => {
            h.insert(header::CONTENT_TYPE, CSV);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{range}/{total_text}")) {
        h.insert(header::CONTENT_RANGE, v);
    }
    if let Some(t) = total {
        prefer.applied_count(t.applied());
    }
    applied(h, &prefer);
    Ok(response)
}

const CSV: HeaderValue = HeaderValue::from_static("text/csv; charset=utf-8");

/// A list with hooks: between the `pre` and `post` hooks, in the transaction a hook began
/// when one ran a statement, else on a pooled connection; the page's
/// length, the total and the rendered body. `post` hooks see and change the page as JSON,
/// which is then written as CSV when CSV was asked for.
#[allow(clippy::too_many_arguments)]
async fn list_hooked<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    ctx: &mut HookCtx,
    plan: &query::ListPlan,
    prefer: &query::Prefer,
    fetch: u64,
    media: ListMedia,
) -> Result<(u64, Option<Total>, Vec<u8>), Problem> {
    let map = |e| db_error::map(res, e);
    run_read_hooks(op.pre, ctx).await?;
    let mut out = Vec::new();
    let csv_after = media == ListMedia::Csv && !op.post.is_empty();
    let rendered = if csv_after { ListMedia::Array } else { media };
    let shape = (fetch, prefer.count, rendered);
    let listed = match read_tx::<B>(ctx) {
        Some(mut tx) => {
            let listed = list_rows::<B>(&mut tx, res, op, plan, shape, &mut out).await;
            ctx.tx = Some(B::wrap_tx(tx));
            listed
        }
        None => {
            let mut conn = pool.acquire().await.map_err(map)?;
            list_rows::<B>(&mut conn, res, op, plan, shape, &mut out).await
        }
    };
    let (n, total) = listed.map_err(map)?;
    past_end(plan, total)?;
    singular_check(res, media == ListMedia::Object, n)?;
    read_post_hooks(op, ctx, &mut out).await?;
    if csv_after {
        out = output::csv_from_json(res, &plan.columns, &out).map_err(|e| Problem::internal(&e))?;
    }
    finish_read::<B>(sent, ctx).await.map_err(map)?;
    Ok((n, total, out))
}

/// 416 when the offset is past the matching rows (known only with a count, and only from
/// a counted total: an estimate may be short of rows that exist).
fn past_end(plan: &query::ListPlan, total: Option<Total>) -> Result<(), Problem> {
    match total {
        Some(Total {
            rows: t,
            exact: true,
        }) if plan.offset > t => Err(Problem::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range-not-satisfiable",
            format!("offset {} is past the {t} matching rows", plan.offset),
        )
        .with_header(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("*/{t}")).unwrap_or(JSON),
        )),
        _ => Ok(()),
    }
}

/// 406 when the client asked for one object and the query did not return exactly one row.
fn singular_check(res: &Resource, singular: bool, n: u64) -> Result<(), Problem> {
    if singular && n != 1 {
        return Err(Problem::new(
            StatusCode::NOT_ACCEPTABLE,
            "not-singular",
            format!(
                "the request asked for exactly one {} object, and the query returned {} rows",
                res.model.path,
                if n == 0 { "no" } else { "several" }
            ),
        ));
    }
    Ok(())
}
