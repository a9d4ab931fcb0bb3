use expose_runtime::expose;

// The view's own attribute is checked as the first is, at its tokens.
#[expose(as = "users", list(fields = "-email"))]
#[expose(view = AdminUsers, as = "users", lsit, update(fields = "is_admn"))]
pub struct User {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
}

fn main() {
    let _ = AdminUsers::router::<expose_runtime::Db>();
}
