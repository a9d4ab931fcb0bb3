use expose_runtime::expose;

#[expose(as = "bits", list)]
pub union Bits {
    pub id: i64,
    pub float: f64,
}

fn main() {}
