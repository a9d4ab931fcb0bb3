use expose_runtime::expose;

#[expose(as = "people", create(fields = "name,created_at"))]
pub struct Person {
    pub id: i64,
    pub name: String,
    #[expose(generated)]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn main() {}
