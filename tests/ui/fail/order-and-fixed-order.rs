use expose_runtime::expose;

#[expose(as = "people", list(order = "name", fixed_order = "id"))]
pub struct Person {
    pub id: i64,
    pub name: String,
}

fn main() {}
