use expose_runtime::expose;

#[expose(as = "people", create(max_affected = 10), update(max_affected = 10))]
pub struct Person {
    pub id: i64,
    pub name: String,
}

fn main() {}
