use expose_runtime::expose;

#[expose(as = "people", table = "person", as = "persons", list)]
pub struct Person {
    pub id: i64,
}

fn main() {}
