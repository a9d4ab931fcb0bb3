use expose_runtime::expose;

#[expose(as = "people", list(where = "age.is.true", where = "data.not.is.false"))]
pub struct Person {
    pub id: i64,
    pub age: Option<i32>,
    pub data: Option<serde_json::Value>,
}

fn main() {}
