use expose_runtime::expose;

#[expose(as = "people", list)]
pub struct Person {
    #[expose(id, generated, id)]
    pub id: i64,
}

fn main() {}
