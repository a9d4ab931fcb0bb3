use expose_runtime::{expose, HookCtx, Problem};

// Not async, and takes a shared reference.
fn check_admin(_ctx: &HookCtx) -> Result<(), Problem> {
    Ok(())
}

#[expose(as = "people", create(pre = [check_admin]))]
pub struct Person {
    pub id: i64,
}

fn main() {}
