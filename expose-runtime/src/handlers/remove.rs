//! `DELETE /path/{id}`: 204, guarded by `If-Match`.

use super::idempotency::{self, Answer, Keying};
use super::update::Write;
use super::*;

pub(crate) async fn remove(
    res: &Resource,
    mut req: Req<'_>,
    key: &str,
    keep: Option<std::time::Duration>,
) -> Result<Response, Problem> {
    let key_value = parse_key(res, key)?;
    let (policy, prepared) = prepare(res, OperationKind::Remove, &req, Some(key_value.clone()))?;
    let op = policy.op;
    let pairs = query::pairs(req.parts.uri.query());
    only_params(&pairs, &[], "remove")?;
    let if_match = precondition(op, &req.headers)?;
    let held = match idempotency::keying(res, &mut req, keep, &[]).await? {
        Keying::Replay(answer) => return Ok(answer),
        Keying::Run(held) => held,
    };
    let keyed = held.as_ref().map(|(k, _)| k);
    let write = Write {
        key: key_value,
        scope: &prepared.scope,
        with_check: &[],
        if_match: if_match.as_ref(),
        keyed: keyed.map(|k| (k, true)),
        embeds: None,
    };
    let sent = req.sent;
    if !on_backend!(&req.db, remove_in(sent, res, op, prepared.ctx, write))? {
        return Err(not_found(res, key));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn remove_in<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    ctx: Option<Box<HookCtx>>,
    write: Write<'_>,
) -> Result<bool, Problem> {
    let map = |e| db_error::map(res, e);
    let (sql, args) = delete_statement::<B>(res, write.key.clone(), write.scope);
    if !(ctx.is_some() && has_hooks(op)) && write.if_match.is_none() && write.keyed.is_none() {
        let mut conn = sent.autocommit(pool).await.map_err(map)?;
        let done = B::execute(conn.applying(), &sql, &args).await;
        return Ok(done.map_err(map)?.rows > 0);
    }
    // Boxed, so that the transaction's futures do not make every remove's state larger.
    let checked = Box::pin(remove_checked::<B>(
        pool,
        sent,
        res,
        op,
        ctx,
        write,
        (&sql, &args),
    ));
    checked.await
}

/// A remove that reads the row first (for `If-Match` or hooks): in a transaction, between
/// the `pre` and `post` hooks.
async fn remove_checked<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<Box<HookCtx>>,
    write: Write<'_>,
    statement: (&str, &[Value]),
) -> Result<bool, Problem> {
    let map = |e| db_error::map(res, e);
    let tx = sent.begin(pool).await.map_err(map)?;
    let Some(mut tx) =
        remove_in_tx::<B>(tx, res, op, ctx.as_deref_mut(), &write, statement).await?
    else {
        return Ok(false);
    };
    if let Some((k, _)) = write.keyed {
        let answer = Answer {
            status: StatusCode::NO_CONTENT,
            location: None,
            etag: None,
            body: None,
        };
        idempotency::store::<B>(tx.conn(), res, k, &answer).await?;
    }
    tx.commit().await.map_err(map)?;
    Ok(true)
}

/// One row's remove inside a transaction: the row read (and locked) for `If-Match` or
/// hooks, the `pre` hooks, the statement, the `post` hooks. `None` (with the transaction
/// dropped) when no row matched.
pub(super) async fn remove_in_tx<'s, B: Driver>(
    mut tx: WriteTx<'s, B>,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<&mut HookCtx>,
    write: &Write<'_>,
    (sql, args): (&str, &[Value]),
) -> Result<Option<WriteTx<'s, B>>, Problem> {
    let map = |e| db_error::map(res, e);
    let hooked = ctx.as_deref_mut().filter(|_| has_hooks(op));
    if !write.check::<B>(tx.conn(), res, hooked).await? {
        return Ok(None);
    }
    if let Some(ctx) = ctx.as_deref_mut().filter(|_| has_hooks(op)) {
        tx = run_hooks::<B>(op.pre, ctx, tx).await?;
    }
    if B::execute(tx.conn(), sql, args).await.map_err(map)?.rows == 0 {
        return Ok(None);
    }
    if let Some(ctx) = ctx.filter(|_| has_hooks(op)) {
        tx = run_hooks::<B>(op.post, ctx, tx).await?;
    }
    Ok(Some(tx))
}

/// The `DELETE`: built once when it has no filter besides the key.
pub(super) fn delete_statement<'r, B: Driver>(
    res: &'r Resource,
    key: Value,
    scope: &[Filter],
) -> (Sql<'r>, KeyArgs) {
    let shape = scope.is_empty().then_some(Shape::Delete);
    key_statement::<B>(res, shape, key, |w, key| sql::delete(w, res, key, scope))
}
