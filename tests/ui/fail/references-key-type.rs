use expose_runtime::expose;

#[expose(as = "users", list)]
pub struct User {
    pub id: i64,
}

#[expose(as = "posts", list)]
pub struct Post {
    pub id: i64,
    #[expose(references = User)]
    pub owner_id: i32,
}

fn main() {}
