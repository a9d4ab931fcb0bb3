use expose_runtime::{expose, FieldMask, HookCtx, Problem};

// Must take &mut FieldMask<Post>.
fn narrow(_ctx: &HookCtx, _mask: &FieldMask<Post>) -> Result<(), Problem> {
    Ok(())
}

#[expose(as = "posts", list(fields_for = narrow))]
pub struct Post {
    pub id: i64,
}

fn main() {}
