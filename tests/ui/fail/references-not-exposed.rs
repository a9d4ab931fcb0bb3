use expose_runtime::expose;

pub struct User {
    pub id: i64,
}

#[expose(as = "posts", list)]
pub struct Post {
    pub id: i64,
    #[expose(references = User)]
    pub owner_id: i64,
}

fn main() {}
