use expose_runtime::expose;

#[expose(as = "people", list(where = "age.gtt.17"))]
pub struct Person {
    pub id: i64,
    pub age: i32,
}

fn main() {}
