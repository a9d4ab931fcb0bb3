use expose_runtime::expose;

// Every mistake is reported in one build.
#[expose(as = "people", lst, list(limit = 0, fields = "nam"), create(fields = "id"))]
pub struct Person {
    #[expose(id, generated)]
    pub id: i64,
    pub name: String,
}

fn main() {}
