//! `GET /path`: a page of rows, filtered, ordered and counted as the query asks.

use super::*;

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
    query::require_json(&req.headers)?;
    let range = query::range(&req.headers)?;
    let mut plan = query::plan_list(res, policy, &pairs, range)?;
    plan.filters.extend(prepared.scope);
    let prefer = query::prefer(&req.headers)?;
    let singular = query::wants_object(&req.headers);
    req.release_headers();
    let sent = req.sent;
    on_backend!(
        &req.db,
        list_in(sent, res, op, prepared.ctx, plan, prefer, singular)
    )
}

/// Runs the list statement, rendering each row as it arrives, and the count when asked, on
/// one connection; the number of rows and the count.
async fn list_rows<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    plan: &query::ListPlan,
    (fetch, count, singular): (u64, bool, bool),
    out: &mut Vec<u8>,
) -> Result<(u64, Option<u64>), sqlx::Error> {
    let mut w = SqlWriter::new(B::DIALECT);
    sql::list(&mut w, res, plan, fetch);
    let mut n = 0u64;
    out.reserve(64 + fetch.min(1000) as usize * 96);
    if !singular {
        out.push(b'[');
    }
    let mut render = |row: &B::Row| {
        n += 1;
        match (singular, n) {
            (true, 1) => output::write_row::<B>(res, &plan.columns, row, out),
            (true, _) => Ok(()),
            (false, 1) => output::write_row::<B>(res, &plan.columns, row, out),
            (false, _) => {
                out.push(b',');
                output::write_row::<B>(res, &plan.columns, row, out)
            }
        }
    };
    B::fetch_each(conn, &w.sql, &w.args, &mut render).await?;
    if !singular {
        out.push(b']');
    }
    let total = if count {
        let mut w = SqlWriter::new(B::DIALECT);
        sql::count(&mut w, res, &plan.filters);
        let row = B::fetch_optional(conn, &w.sql, &w.args).await?;
        let n = row.as_ref().map(|r| B::get_i64(r, 0)).transpose()?;
        Some(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
    } else {
        None
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
    prefer: query::Prefer,
    singular: bool,
) -> Result<Response, Problem> {
    let map = |e| db_error::map(res, e);
    let fetch = if singular {
        plan.limit.min(2)
    } else {
        plan.limit
    };
    let (n, total, out) = match ctx.as_deref_mut().filter(|_| has_hooks(op)) {
        None => {
            let mut out = Vec::new();
            let mut conn = pool.acquire().await.map_err(map)?;
            let shape = (fetch, prefer.count.is_some(), singular);
            let (n, total) = list_rows::<B>(&mut conn, res, &plan, shape, &mut out)
                .await
                .map_err(map)?;
            past_end(&plan, total)?;
            singular_check(res, singular, n)?;
            (n, total, out)
        }
        // Boxed, so that the hooks' futures do not make every list's state larger.
        Some(ctx) => {
            let hooked = Box::pin(list_hooked::<B>(
                pool, sent, res, op, ctx, &plan, &prefer, fetch, singular,
            ));
            hooked.await?
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
async fn list_hooked<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    ctx: &mut HookCtx,
    plan: &query::ListPlan,
    prefer: &query::Prefer,
    fetch: u64,
    singular: bool,
) -> Result<(u64, Option<u64>, Vec<u8>), Problem> {
    let map = |e| db_error::map(res, e);
    let tx = sent.begin_read(pool).await.map_err(map)?;
    let mut tx = run_hooks::<B>(op.pre, ctx, tx).await?;
    let mut out = Vec::new();
    let shape = (fetch, prefer.count.is_some(), singular);
    let (n, total) = list_rows::<B>(tx.conn(), res, plan, shape, &mut out)
        .await
        .map_err(map)?;
    past_end(plan, total)?;
    singular_check(res, singular, n)?;
    let tx = post_hooks::<B>(op, Some(ctx), tx, &mut out).await?;
    tx.commit().await.map_err(map)?;
    Ok((n, total, out))
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
