use expose_runtime::expose;

#[expose(as = "people", list(order = "age.desc,nmae"))]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub age: i32,
}

fn main() {}
