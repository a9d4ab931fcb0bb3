//! The `list-hooked` workload's generated side: the `people` table exposed again at
//! `/people_hooked` with a list pre hook that runs no SQL (a header check, as an auth hook
//! would make). Compared with the plain `list` cell of the same run, it shows what a read's
//! hook costs: a hook that runs no statement begins no transaction.

use expose_runtime::{expose, HookCtx, Problem};

/// A person, as `/people_hooked` lists it.
#[expose(
    as = "people_hooked",
    table = "people",
    list(fields = "-password", order = "id", limit = 100, max_limit = 1000, pre = [not_blocked])
)]
pub struct HookedPerson {
    #[expose(id, generated)]
    pub id: i64,
    pub name: String,
    pub email: String,
    pub password: String,
    pub age: i32,
    pub is_admin: bool,
    pub bio: Option<String>,
    #[expose(generated)]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Refuses a request that carries `x-blocked`: a check on the request only, no SQL.
async fn not_blocked(ctx: &mut HookCtx) -> Result<(), Problem> {
    if ctx.headers().contains_key("x-blocked") {
        return Err(Problem::forbidden("blocked"));
    }
    Ok(())
}
