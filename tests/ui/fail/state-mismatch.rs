use expose_runtime::{expose, Db, HookCtx, Problem};

#[derive(Clone)]
struct Library {
    db: Db,
    max_open_loans: i64,
}

impl axum::extract::FromRef<Library> for Db {
    fn from_ref(l: &Library) -> Db {
        l.db.clone()
    }
}

/// The hooks read `Library`: the router must be served with it.
#[expose(as = "loans", state = Library, create(pre = [limit]))]
pub struct Loan {
    pub id: i64,
}

async fn limit(ctx: &mut HookCtx) -> Result<(), Problem> {
    let _ = ctx.state::<Library>()?.max_open_loans;
    Ok(())
}

fn app(db: Db) -> axum::Router {
    axum::Router::new().merge(Loan::router()).with_state(db)
}

fn main() {
    let _ = app;
}
