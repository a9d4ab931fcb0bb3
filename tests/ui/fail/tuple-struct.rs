use expose_runtime::expose;

#[expose(as = "points", list)]
pub struct Point(#[expose(id)] i64, f64);

fn main() {}
