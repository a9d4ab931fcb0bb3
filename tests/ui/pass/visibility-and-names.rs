//! Private and `pub(crate)` structs, raw identifiers, a key found by its name `id`, and a
//! state other than `Db`.
#![deny(warnings)]

use expose_runtime::{expose, Db};

#[expose(as = "tags", list(sort = "type"), retrieve)]
struct Tag {
    id: i64,
    r#type: String,
}

mod inner {
    use expose_runtime::expose;

    #[expose(as = "labels", create(fields = "name"), remove)]
    pub(crate) struct Label {
        // The key by its name; `generated`: create does not take it.
        #[expose(generated)]
        pub(crate) id: i64,
        pub(crate) name: String,
    }
}

#[derive(Clone)]
struct AppState {
    db: Db,
}

impl axum::extract::FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Db {
        state.db.clone()
    }
}

fn app(state: AppState) -> axum::Router {
    axum::Router::new()
        .merge(Tag::router())
        .merge(inner::Label::router())
        .with_state(state)
}

fn main() {
    let _ = (Tag::FIELDS.r#type, inner::Label::FIELDS.name, app);
}
