//! Compile-time behaviour of `#[expose]`: every misuse fails to compile with one clear
//! message at the offending token (`tests/ui/fail`, one file per mistake), and the whole
//! option surface compiles (`tests/ui/pass`, and the expansion fixtures of `expose-macros`).
//!
//! The `.stderr` files hold rustc's output as of rustc 1.95.0, the toolchain installed on the
//! project's machines. rustc's wording moves between releases: after a toolchain change, run
//! `TRYBUILD=overwrite cargo test --test ui` and review the diff of `tests/ui/fail/*.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    for fixture in [
        "custom",
        "people",
        "policies",
        "relations",
        "renames",
        "validation",
        "writes",
    ] {
        t.pass(format!("expose-macros/tests/expand/{fixture}.rs"));
    }
    t.compile_fail("tests/ui/fail/*.rs");
}
