use expose_runtime::expose;

#[expose(as = "users", list)]
pub struct User {
    pub id: i64,
}

#[expose(as = "posts", list, create(embed(User), embed_rows = 5))]
pub struct Post {
    pub id: i64,
}

fn main() {}
