//! Expansion snapshots: each fixture in `tests/expand/*.rs` is expanded by [`expand`] and
//! formatted with prettyplease; the result must equal the checked-in `*.expanded.rs`.
//! `UPDATE_SNAPSHOTS=1 cargo test -p expose-macros` rewrites the snapshots. The same
//! fixtures compile as trybuild pass cases (`tests/ui.rs` at the workspace root).

use crate::expand::expand;
use std::path::PathBuf;

/// Expands the item carrying `#[expose(...)]` in `source` and formats the expansion.
fn expand_fixture(source: &str) -> String {
    let file: syn::File = syn::parse_str(source).expect("fixture parses");
    let mut found = None;
    for item in file.items {
        let syn::Item::Struct(mut s) = item else {
            continue;
        };
        if let Some(pos) = s.attrs.iter().position(|a| a.path().is_ident("expose")) {
            let attr = s.attrs.remove(pos);
            let args = match attr.meta {
                syn::Meta::List(list) => list.tokens,
                _ => proc_macro2::TokenStream::new(),
            };
            found = Some((args, quote::ToTokens::into_token_stream(s)));
            break;
        }
    }
    let (args, item) = found.expect("fixture has an #[expose] struct");
    let out = expand(args, item);
    let file: syn::File = syn::parse2(out).expect("expansion parses as a file");
    prettyplease::unparse(&file)
}

fn check(name: &str, source: &str) {
    let actual = expand_fixture(source);
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "expand",
        &format!("{name}.expanded.rs"),
    ]
    .iter()
    .collect();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let mut diff = String::new();
        let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
        for i in 0..e.len().max(a.len()) {
            match (e.get(i), a.get(i)) {
                (Some(x), Some(y)) if x == y => {}
                (x, y) => {
                    if let Some(x) = x {
                        diff.push_str(&format!("{:>4} - {x}\n", i + 1));
                    }
                    if let Some(y) = y {
                        diff.push_str(&format!("{:>4} + {y}\n", i + 1));
                    }
                }
            }
        }
        panic!(
            "the expansion of tests/expand/{name}.rs changed (- snapshot, + now):\n{diff}\n\
             if the change is intended, run `UPDATE_SNAPSHOTS=1 cargo test -p expose-macros` \
             and commit tests/expand/{name}.expanded.rs"
        );
    }
}

macro_rules! snapshot {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            check(
                stringify!($name),
                include_str!(concat!("../tests/expand/", stringify!($name), ".rs")),
            );
        }
    )*};
}

snapshot!(custom, people, policies, relations, renames, validation, writes);
