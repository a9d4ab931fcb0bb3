use expose_runtime::{expose, Cond, HookCtx, Problem};

fn mine(_: &HookCtx) -> Result<Option<Cond<Post>>, Problem> {
    Ok(None)
}

fn owner(_: &HookCtx) -> Result<i64, Problem> {
    Ok(1)
}

#[expose(as = "posts", create(order = "id"), list(force(owner_id = owner), scope = mine), retrieve(require_if_match))]
pub struct Post {
    pub id: i64,
    pub owner_id: i64,
}

fn main() {}
