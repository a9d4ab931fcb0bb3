use expose_runtime::{expose, HookCtx, Problem};

async fn audit(_: &mut HookCtx) -> Result<(), Problem> {
    Ok(())
}

#[expose(as = "posts", create(post = [audit, audit]), update(pre = audit, pre = audit))]
pub struct Post {
    pub id: i64,
}

fn main() {}
