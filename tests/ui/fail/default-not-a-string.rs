use expose_runtime::expose;

#[expose(as = "books", create)]
pub struct Book {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(default = 1)]
    pub copies: i32,
}

fn main() {}
