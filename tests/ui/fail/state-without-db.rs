use expose_runtime::expose;

/// An app state with no `Db` to give the routers.
#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

#[expose(as = "books", list)]
pub struct Book {
    pub id: i64,
}

fn main() {
    let state = AppState { greeting: "hi" };
    let _ = state.greeting;
    let _app: axum::Router = axum::Router::new().merge(Book::router()).with_state(state);
}
