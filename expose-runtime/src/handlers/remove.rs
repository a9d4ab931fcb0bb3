//! `DELETE /path/{id}`: 204, guarded by `If-Match`.

use super::update::Write;
use super::*;

pub(crate) async fn remove(res: &Resource, req: Req, key: &str) -> Result<Response, Problem> {
    let op = res.model.remove.as_ref().ok_or_else(not_allowed)?;
    let key_value = parse_key(res, key)?;
    let db = req.db.clone();
    let (prepared, parts) = prepare(op, OperationKind::Remove, req, Some(key_value.clone()))?;
    let pairs = query::pairs(parts.uri.query());
    only_params(&pairs, &[], "remove")?;
    let if_match = precondition(op, &parts.headers)?;
    let write = Write {
        key: key_value,
        scope: &prepared.scope,
        if_match: if_match.as_ref(),
    };
    if !on_backend!(&db, remove_in(res, op, prepared.ctx, write))? {
        return Err(not_found(res, key));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn remove_in<B: Backend>(
    pool: &Pool<B>,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<HookCtx>,
    write: Write<'_>,
) -> Result<bool, Problem> {
    let map = |e| db_error::map(res, e);
    let mut w = SqlWriter::new(B::DIALECT);
    sql::delete(&mut w, res, write.key.clone(), write.scope);
    let hooked = ctx.as_mut().filter(|_| has_hooks(op));
    if hooked.is_none() && write.if_match.is_none() {
        let mut conn = pool.acquire().await.map_err(map)?;
        return Ok(B::execute(&mut conn, &w.sql, &w.args)
            .await
            .map_err(map)?
            .rows
            > 0);
    }
    let mut tx = begin_write::<B>(pool).await.map_err(map)?;
    if !write.check::<B>(&mut tx, res, hooked).await? {
        return Ok(false);
    }
    if let Some(ctx) = ctx.as_mut().filter(|_| has_hooks(op)) {
        tx = run_hooks::<B>(op.pre, ctx, tx).await?;
    }
    if B::execute(&mut tx, &w.sql, &w.args)
        .await
        .map_err(map)?
        .rows
        == 0
    {
        return Ok(false);
    }
    if let Some(ctx) = ctx.as_mut().filter(|_| has_hooks(op)) {
        tx = run_hooks::<B>(op.post, ctx, tx).await?;
    }
    tx.commit().await.map_err(map)?;
    Ok(true)
}
