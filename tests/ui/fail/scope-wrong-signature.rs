use expose_runtime::{expose, Cond, HookCtx};

// Must return Result<Option<Cond<Post>>, Problem>.
fn mine(_ctx: &HookCtx) -> Option<Cond<Post>> {
    None
}

#[expose(as = "posts", list(scope = mine))]
pub struct Post {
    pub id: i64,
}

fn main() {}
