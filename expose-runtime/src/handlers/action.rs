//! `POST /path/{id}/{action}`: a declared action, run as an update whose values its function
//! sets (`#[expose(action(publish, ...))]`), in the update's transaction.

use super::update::{update_checked, ByKey, Write};
use super::*;

/// Runs action number `index` of the model on the row `key`: the row is loaded (and locked)
/// under the action's scope, 404 outside it with nothing written; the function (last of the
/// `pre` hooks) sets what is written; the answer is the written row, narrowed by `select=`.
pub(crate) async fn action(
    res: &Resource,
    req: Req<'_>,
    index: usize,
    key: &str,
) -> Result<Response, Problem> {
    let policy = res
        .action(index)
        .ok_or_else(|| Problem::internal(&format!("{} has no action {index}", res.model.path)))?;
    let name = res.model.actions[index].name;
    let op = policy.op;
    let mut by = ByKey::read(res, OperationKind::Update, policy, &req, key, name).await?;
    let ctx = by.prepared.ctx.take();
    let columns = &by.answer.columns;
    let write = by.write(None, true);
    let sent = req.sent;
    let (out, etag) = on_backend!(&req.db, action_in(sent, res, op, ctx, columns, write))?
        .ok_or_else(|| not_found(res, key))?;
    Ok(with_etag(json_response(StatusCode::OK, out), &etag))
}

/// The update's transaction with no values but those the action's function sets.
async fn action_in<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    ctx: Option<Box<HookCtx>>,
    columns: &[Column],
    write: Write<'_>,
) -> Result<Option<(Vec<u8>, ETag)>, Problem> {
    let (selected, appended) = single_row_columns(res, columns);
    let cols = (columns, &*selected, appended);
    update_checked::<B>(pool, sent, res, op, ctx, cols, Vec::new(), write).await
}
