//! The write protocol: a unique field, bulk and upserting create, update and remove chosen
//! by filters on the collection, and replace.

use expose_runtime::expose;

/// A contact, exposed at `/contacts`.
#[expose(
    as = "contacts",
    all(fields = "-token"),
    list,
    create(upsert, max_rows = 500),
    update(
        filter = "id,email,team",
        max_affected = 50,
        where = "archived.is.false"
    ),
    remove(filter = "-name", unfiltered, max_affected = 10000),
    replace(where = "archived.is.false")
)]
pub struct Contact {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(unique)]
    pub email: String,
    pub name: String,
    pub team: Option<String>,
    pub token: Option<String>,
    #[expose(default)]
    pub archived: bool,
}

fn main() {
    let _ = Contact::router::<expose_runtime::Db>();
}
