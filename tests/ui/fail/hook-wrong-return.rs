use expose_runtime::{expose, HookCtx};

async fn check_admin(_ctx: &mut HookCtx) -> bool {
    true
}

#[expose(as = "people", create(pre = [check_admin]))]
pub struct Person {
    pub id: i64,
}

fn main() {}
