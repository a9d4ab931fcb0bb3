use expose_runtime::expose;

#[expose(view = AdminUsers, as = "users", list)]
pub struct User {
    pub id: i64,
    pub email: String,
}

fn main() {}
