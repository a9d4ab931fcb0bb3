use expose_runtime::expose;

#[expose(as = people, list(limit = "10", fields = name))]
pub struct Person {
    pub id: i64,
    pub name: String,
}

fn main() {}
