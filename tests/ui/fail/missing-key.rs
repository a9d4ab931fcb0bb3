use expose_runtime::expose;

#[expose(as = "people", list)]
pub struct Person {
    pub person_id: i64,
    pub name: String,
}

fn main() {}
