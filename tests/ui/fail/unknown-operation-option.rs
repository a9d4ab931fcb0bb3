use expose_runtime::expose;

#[expose(as = "people", list(fitler = "name"))]
pub struct Person {
    pub id: i64,
    pub name: String,
}

fn main() {}
