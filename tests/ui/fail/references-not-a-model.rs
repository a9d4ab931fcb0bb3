use expose_runtime::expose;

#[expose(as = "posts", list)]
pub struct Post {
    pub id: i64,
    #[expose(references = 5)]
    pub owner_id: i64,
}

fn main() {}
