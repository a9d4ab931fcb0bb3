//! The README's `Person`: five operations, a hidden field, list policies.

use expose_runtime::expose;

/// A person, exposed at `/people`.
#[expose(
    as = "people",
    all(fields = "-password"),
    list(
        filter = "id,name,email,age,is_admin,bio,created_at",
        sort = "id,name,age,bio,created_at",
        order = "id",
        limit = 100,
        max_limit = 1000
    ),
    retrieve,
    create(fields = "name,email,password,age,bio"),
    update(fields = "name,email,password,age,bio"),
    remove
)]
pub struct Person {
    #[expose(id, generated)]
    pub id: i64,
    pub name: String,
    pub email: String,
    pub password: String,
    pub age: i32,
    #[expose(default)]
    pub is_admin: bool,
    pub bio: Option<String>,
    #[expose(generated)]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn main() {
    let _ = Person::router::<expose_runtime::Db>();
}
