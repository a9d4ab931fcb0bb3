use expose_runtime::expose;

#[expose(as = "books", retrieve, create(fields = "title"))]
pub struct Book {
    #[expose(id)]
    pub id: uuid::Uuid,
    pub title: String,
}

fn main() {}
