use expose_runtime::expose;

#[expose(as = "people", list(limit = 500, max_limit = 100))]
pub struct Person {
    pub id: i64,
}

fn main() {}
