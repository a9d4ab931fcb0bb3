use expose_runtime::{expose, HookCtx, Problem};

// owner_id is an i64.
fn current_user(_ctx: &HookCtx) -> Result<String, Problem> {
    Ok("me".to_owned())
}

#[expose(as = "posts", create(force(owner_id = current_user)))]
pub struct Post {
    pub id: i64,
    pub owner_id: i64,
}

fn main() {}
