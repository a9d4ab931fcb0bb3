use expose_runtime::expose;

fn current_user(_: &expose_runtime::HookCtx) -> Result<i64, expose_runtime::Problem> {
    Ok(1)
}

#[expose(as = "posts", create(force(ownr_id = current_user)))]
pub struct Post {
    pub id: i64,
    pub owner_id: i64,
}

fn main() {}
