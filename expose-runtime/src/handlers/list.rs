//! `GET /path`: a page of rows, filtered, ordered and counted as the query asks.

use super::*;

pub(crate) async fn list(res: &Resource, req: Req) -> Result<Response, Problem> {
    let (policy, op) = res
        .list
        .as_ref()
        .zip(res.model.list.as_ref())
        .ok_or_else(not_allowed)?;
    let db = req.db.clone();
    let (prepared, parts) = prepare(op, OperationKind::List, req, None)?;
    let narrowed;
    let policy = match prepared.fields {
        Some(by) => {
            let readable = narrow_readable(res, policy.readable, Some(by));
            narrowed = ReadPolicy {
                readable,
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
    let pairs = query::pairs(parts.uri.query());
    query::require_json(&parts.headers)?;
    let range = query::range(&parts.headers)?;
    let mut plan = query::plan_list(res, policy, &pairs, range)?;
    plan.filters.extend(prepared.scope);
    let prefer = query::prefer(&parts.headers)?;
    let singular = query::wants_object(&parts.headers);
    on_backend!(&db, list_in(res, op, prepared.ctx, plan, prefer, singular))
}

/// Runs the list statement (and the count, when asked) on one connection.
async fn list_rows<B: Backend>(
    conn: &mut B::Connection,
    res: &Resource,
    plan: &query::ListPlan,
    fetch: u64,
    count: bool,
) -> Result<(Vec<B::Row>, Option<u64>), sqlx::Error> {
    let mut w = SqlWriter::new(B::DIALECT);
    sql::list(&mut w, res, plan, fetch);
    let rows = B::fetch_all(conn, &w.sql, &w.args).await?;
    let total = if count {
        let mut w = SqlWriter::new(B::DIALECT);
        sql::count(&mut w, res, &plan.filters);
        let row = B::fetch_all(conn, &w.sql, &w.args).await?;
        let n = row.first().map(|r| B::get_i64(r, 0)).transpose()?;
        Some(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
    } else {
        None
    };
    Ok((rows, total))
}

async fn list_in<B: Backend>(
    pool: &Pool<B>,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<HookCtx>,
    plan: query::ListPlan,
    prefer: query::Prefer,
    singular: bool,
) -> Result<Response, Problem> {
    let map = |e| db_error::map(res, e);
    let fetch = if singular {
        plan.limit.min(2)
    } else {
        plan.limit
    };
    let (n, total, out) = match ctx.as_mut().filter(|_| has_hooks(op)) {
        None => {
            let mut out = Vec::new();
            let mut conn = pool.acquire().await.map_err(map)?;
            let (rows, total) = list_rows::<B>(&mut conn, res, &plan, fetch, prefer.count)
                .await
                .map_err(map)?;
            drop(conn);
            past_end(&plan, total)?;
            render_list::<B>(res, &plan, &rows, singular, &mut out)?;
            (rows.len() as u64, total, out)
        }
        // Boxed, so that the hooks' futures do not make every list's state larger.
        Some(ctx) => {
            let hooked = list_hooked::<B>(pool, res, op, ctx, &plan, &prefer, fetch, singular);
            Box::pin(hooked).await?
        }
    };
    let range = if n == 0 {
        "*".to_owned()
    } else {
        format!("{}-{}", plan.offset, plan.offset + n - 1)
    };
    let total_text = total.map_or_else(|| "*".to_owned(), |t| t.to_string());
    let status = match total {
        Some(t) if n < t && !singular => StatusCode::PARTIAL_CONTENT,
        _ => StatusCode::OK,
    };
    let mut response = json_response(status, out);
    let h = response.headers_mut();
    if singular {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(query::OBJECT_JSON),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{range}/{total_text}")) {
        h.insert(header::CONTENT_RANGE, v);
    }
    applied(h, &prefer);
    Ok(response)
}

/// A list with hooks: in a transaction, between the `pre` and `post` hooks; the page's
/// length, the count and the rendered body.
#[allow(clippy::too_many_arguments)]
async fn list_hooked<B: Backend>(
    pool: &Pool<B>,
    res: &Resource,
    op: &Operation,
    ctx: &mut HookCtx,
    plan: &query::ListPlan,
    prefer: &query::Prefer,
    fetch: u64,
    singular: bool,
) -> Result<(u64, Option<u64>, Vec<u8>), Problem> {
    let map = |e| db_error::map(res, e);
    let tx = pool.begin().await.map_err(map)?;
    let mut tx = run_hooks::<B>(op.pre, ctx, tx).await?;
    let (rows, total) = list_rows::<B>(&mut tx, res, plan, fetch, prefer.count)
        .await
        .map_err(map)?;
    past_end(plan, total)?;
    let mut out = Vec::new();
    render_list::<B>(res, plan, &rows, singular, &mut out)?;
    let tx = post_hooks::<B>(op, Some(ctx), tx, &mut out).await?;
    tx.commit().await.map_err(map)?;
    Ok((rows.len() as u64, total, out))
}

/// 416 when the offset is past the matching rows (known only with a count).
fn past_end(plan: &query::ListPlan, total: Option<u64>) -> Result<(), Problem> {
    match total {
        Some(t) if plan.offset > t => Err(Problem::new(
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

fn render_list<B: Backend>(
    res: &Resource,
    plan: &query::ListPlan,
    rows: &[B::Row],
    singular: bool,
    out: &mut Vec<u8>,
) -> Result<(), Problem> {
    let map = |e| db_error::map(res, e);
    out.reserve(64 + rows.len() * 96);
    if singular {
        if rows.len() != 1 {
            return Err(Problem::new(
                StatusCode::NOT_ACCEPTABLE,
                "not-singular",
                format!(
                    "the request asked for exactly one {} object, and the query returned {} rows",
                    res.model.path,
                    if rows.is_empty() { "no" } else { "several" }
                ),
            ));
        }
        output::write_row::<B>(res, &plan.columns, &rows[0], out).map_err(map)
    } else {
        output::write_rows::<B>(res, &plan.columns, rows, out).map_err(map)
    }
}
