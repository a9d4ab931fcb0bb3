use expose_runtime::expose;

#[expose(as = "people", list)]
pub struct Person {
    #[expose(id)]
    pub id: i64,
    #[expose(id)]
    pub email: String,
}

fn main() {}
