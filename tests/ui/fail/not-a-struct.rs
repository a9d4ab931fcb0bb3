use expose_runtime::expose;

#[expose(as = "people", list)]
fn people() {}

fn main() {}
