use expose_runtime::expose;

#[expose(as = "users", list)]
pub struct User {
    pub id: i64,
}

#[expose(as = "posts", list(embed(User, User), embed_depth = 0, embed_rows = 0))]
pub struct Post {
    pub id: i64,
}

fn main() {}
