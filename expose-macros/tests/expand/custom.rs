//! A struct exposed twice (a `view`), with declared actions on both exposures.
use expose_runtime::{expose, Cond, Db, HookCtx, Problem};

#[derive(serde::Deserialize)]
#[expose(as = "users", list, retrieve, action(handlers::greet))]
#[expose(
    view = AdminUsers,
    as = "users",
    all(scope = admins_reach),
    list,
    update(fields = "is_admin"),
    action(promote, method = "PUT", pre = [audit], post = [audit], doc = "Make an admin"),
    action(handlers::greet, method = "DELETE", require_if_match)
)]
pub struct User {
    pub id: i64,
    pub name: String,
    #[expose(default = "FALSE")]
    pub is_admin: bool,
}

fn admins_reach(_: &HookCtx) -> Result<Option<Cond<AdminUsers>>, Problem> {
    Ok(Some(AdminUsers::FIELDS.is_admin.eq(false)))
}

async fn audit(_: &mut HookCtx) -> Result<(), Problem> {
    Ok(())
}

/// Takes the row as a struct of some of its fields.
async fn promote(row: Named, ctx: &mut HookCtx) -> Result<(), Problem> {
    let _ = row.name;
    ctx.input_mut()?.set(AdminUsers::FIELDS.is_admin, true)
}

#[derive(serde::Deserialize)]
struct Named {
    name: String,
}

mod handlers {
    use expose_runtime::{HookCtx, Problem};
    pub async fn greet(_: super::User, _: &mut HookCtx) -> Result<(), Problem> {
        Ok(())
    }
}

fn main() {
    let _: axum::Router<Db> = axum::Router::new()
        .merge(User::router())
        .nest("/admin", AdminUsers::router())
        .route("/admin/users/{id}/promote-now", AdminUsers::endpoints().action("promote"));
    let _: &'static expose_runtime::Model = AdminUsers::MODEL;
}
