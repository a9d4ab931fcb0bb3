use expose_runtime::expose;

// Items inside or(...) / and(...) are checked like single filters.
#[expose(as = "people", list(where = "or(age.lt.18,and(is_admn.is.true,age.gt.old))"))]
pub struct Person {
    pub id: i64,
    pub age: i32,
    pub is_admin: bool,
}

fn main() {}
