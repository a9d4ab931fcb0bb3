use expose_runtime::expose;

#[expose(as = "posts", list)]
pub struct Post {
    pub id: i64,
    pub days: Vec<chrono::NaiveDate>,
}

fn main() {}
