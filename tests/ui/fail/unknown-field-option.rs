use expose_runtime::expose;

#[expose(as = "people", list)]
pub struct Person {
    #[expose(id, genrated)]
    pub id: i64,
}

fn main() {}
