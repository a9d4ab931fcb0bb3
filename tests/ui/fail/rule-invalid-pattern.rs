use expose_runtime::expose;

#[expose(as = "people", create)]
pub struct Person {
    pub id: i64,
    #[expose(validate(pattern = "^[a-z+$"))]
    pub handle: String,
}

fn main() {}
