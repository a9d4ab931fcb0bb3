use expose_runtime::{expose, HookCtx, Problem};

// A scope returns `Option<Cond<Post>>`, `Cond<Post>` or `Scope<Post>` in a `Result`.
fn mine(_ctx: &HookCtx) -> Result<bool, Problem> {
    Ok(true)
}

#[expose(as = "posts", list(scope = mine))]
pub struct Post {
    pub id: i64,
}

fn main() {}
