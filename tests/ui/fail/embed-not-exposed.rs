use expose_runtime::expose;

pub struct Comment {
    pub id: i64,
}

#[expose(as = "posts", list(embed(Comment)))]
pub struct Post {
    pub id: i64,
}

fn main() {}
