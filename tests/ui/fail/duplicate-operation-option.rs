use expose_runtime::expose;

#[expose(as = "people", list(limit = 10, max_limit = 100, limit = 20))]
pub struct Person {
    pub id: i64,
}

fn main() {}
