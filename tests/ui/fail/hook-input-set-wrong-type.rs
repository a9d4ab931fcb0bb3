use expose_runtime::{expose, HookCtx, Problem};

#[expose(as = "loans", create(pre = [assign]))]
pub struct Loan {
    #[expose(id, generated)]
    pub id: i64,
    pub member_id: i64,
}

/// `member_id` is an `i64`: a hook cannot set it to text.
async fn assign(ctx: &mut HookCtx) -> Result<(), Problem> {
    ctx.input_mut()?.set(Loan::FIELDS.member_id, "ann")?;
    Ok(())
}

fn main() {}
