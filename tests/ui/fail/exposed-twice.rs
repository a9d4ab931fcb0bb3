use expose_runtime::expose;

#[expose(as = "users", list(fields = "-email"))]
#[expose(as = "admin_users", list, update(fields = "is_admin"))]
pub struct User {
    pub id: i64,
    pub email: String,
    pub is_admin: bool,
}

fn main() {
    let _ = User::router::<expose_runtime::Db>();
}
