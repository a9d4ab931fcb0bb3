//! Hooks, a row scope, per-request field narrowing, forced values and a version field.

use expose_runtime::{expose, Cond, FieldMask, HookCtx, Problem};

#[derive(Clone)]
struct CurrentUser {
    id: i64,
    admin: bool,
}

#[expose(
    as = "posts",
    all(scope = visible, pre = [signed_in]),
    list(fields_for = hide_drafts_meta, where = "published.eq.true"),
    retrieve,
    create(force(owner_id = current_user_id), post = [audit, notify]),
    update(overwrite(owner_id = current_user_id), require_if_match),
    remove(require_if_match)
)]
pub struct Post {
    #[expose(id, generated)]
    pub id: i64,
    pub owner_id: i64,
    pub title: String,
    pub published: bool,
    #[expose(version)]
    pub version: i64,
}

async fn signed_in(ctx: &mut HookCtx) -> Result<(), Problem> {
    match ctx.extension::<CurrentUser>() {
        Some(_) => Ok(()),
        None => Err(Problem::unauthorized("sign in first")),
    }
}

async fn audit(_ctx: &mut HookCtx) -> Result<(), Problem> {
    Ok(())
}

async fn notify(_ctx: &mut HookCtx) -> Result<(), Problem> {
    Ok(())
}

fn visible(ctx: &HookCtx) -> Result<Option<Cond<Post>>, Problem> {
    Ok(match ctx.extension::<CurrentUser>() {
        Some(u) if u.admin => None,
        Some(u) => Some(Post::FIELDS.published.eq(true).or(Post::FIELDS.owner_id.eq(u.id))),
        None => Some(Post::FIELDS.published.eq(true)),
    })
}

fn hide_drafts_meta(ctx: &HookCtx, mask: &mut FieldMask<Post>) -> Result<(), Problem> {
    if ctx.extension::<CurrentUser>().is_none() {
        mask.remove(Post::FIELDS.owner_id);
    }
    Ok(())
}

fn current_user_id(ctx: &HookCtx) -> Result<i64, Problem> {
    ctx.extension::<CurrentUser>()
        .map(|u| u.id)
        .ok_or_else(|| Problem::unauthorized("sign in first"))
}

fn main() {
    let _ = Post::router::<expose_runtime::Db>();
}
