//! The code `#[expose]` emits is clean in a strict crate: it compiles under
//! `deny(warnings, unused_qualifications, missing_docs)` and, under `cargo clippy` (which
//! `.ci/run` runs with `--all-targets -D warnings`), under `clippy::pedantic`; and it works
//! when the module of the struct shadows the prelude (`struct Result; struct Ok; ...`, as
//! serde's `test_gen.rs` does). The models use every kind of adapter (hooks, scope,
//! `fields_for`, forced values), and a request round-trip on each backend proves the
//! adapters still call the right functions.
#![deny(warnings, unused_qualifications, missing_docs)]
#![warn(clippy::pedantic)]

#[allow(clippy::pedantic, missing_docs, unused_qualifications)]
mod support;

/// The exposed model lives here, next to types named like the prelude's.
pub mod shadowed {
    #![allow(non_camel_case_types, dead_code, clippy::unused_async)]

    use ::expose_runtime::{expose, Col, Cond, FieldErrors, FieldMask, HookCtx, Input, Problem};

    // Everything the emitted code might name without a full path.
    struct Result;
    struct Ok;
    struct Err;
    struct Some;
    struct None;
    struct Option;
    struct Vec;
    struct String;
    struct Box;
    struct Default;
    struct Clone;
    struct Send;
    struct Sync;
    struct From;
    struct Into;
    struct Sized;
    struct Fn;
    struct Future;
    struct Pin;
    struct Value;
    struct Field;
    struct Model;
    struct Operation;
    struct Router;
    struct Rule;
    struct Num;
    struct Choice;
    struct __e;
    struct core;
    struct std;
    struct expose_runtime;

    type Res<T> = ::core::result::Result<T, Problem>;
    type Text = ::std::string::String;

    /// A note, readable by its owner.
    #[expose(
        as = "notes",
        validate = tag_is_not_text,
        all(scope = own, pre = [signed_in]),
        list(order = "id", where = "id.gt.0", limit = 10, max_limit = 20, fields_for = all_fields),
        retrieve,
        create(fields = "text,tag", force(owner_id = owner), post = [audit]),
        update(fields = "text,tag", overwrite(owner_id = owner), require_if_match),
        remove
    )]
    pub struct Note {
        /// The key.
        #[expose(id, generated)]
        pub id: i64,
        /// Who wrote it.
        pub owner_id: i64,
        /// The text.
        #[expose(validate(length(min = 1, max = 1000), pattern = "^[^<>]*$"))]
        pub text: Text,
        /// An optional tag.
        #[expose(validate(one_of("red", "blue")))]
        pub tag: ::core::option::Option<Text>,
        /// Bumped on every update.
        #[expose(version, default)]
        pub version: i64,
    }

    fn tag_is_not_text(input: &Input) -> ::core::result::Result<(), FieldErrors> {
        let tag = input.get(Note::FIELDS.tag).flatten();
        let text = input.get(Note::FIELDS.text);
        if tag.is_some() && tag == text {
            FieldErrors::one(Note::FIELDS.tag, "not_text", "must differ").into_result()
        } else {
            ::core::result::Result::Ok(())
        }
    }

    /// Every request in these tests is user 7's.
    pub const USER: i64 = 7;

    async fn signed_in(_ctx: &mut HookCtx) -> Res<()> {
        ::core::result::Result::Ok(())
    }

    async fn audit(ctx: &mut HookCtx) -> Res<()> {
        if let ::core::option::Option::Some(out) = ctx.output_mut() {
            out["audited"] = true.into();
        }
        ::core::result::Result::Ok(())
    }

    /// Put in the request extensions to have every user function refuse.
    #[derive(Clone)]
    pub struct Refuse;

    fn refused(ctx: &HookCtx) -> Res<()> {
        match ctx.extension::<Refuse>() {
            ::core::option::Option::Some(_) => {
                ::core::result::Result::Err(Problem::forbidden("refused"))
            }
            ::core::option::Option::None => ::core::result::Result::Ok(()),
        }
    }

    fn own(ctx: &HookCtx) -> Res<::core::option::Option<Cond<Note>>> {
        refused(ctx)?;
        ::core::result::Result::Ok(::core::option::Option::Some(Note::FIELDS.owner_id.eq(USER)))
    }

    fn all_fields(ctx: &HookCtx, mask: &mut FieldMask<Note>) -> Res<()> {
        let id: Col<Note, i64> = Note::FIELDS.id;
        assert!(mask.contains(id));
        refused(ctx)
    }

    fn owner(ctx: &HookCtx) -> Res<i64> {
        refused(ctx)?;
        ::core::result::Result::Ok(USER)
    }
}

use expose_runtime::Backend;
use shadowed::Note;
use support::{get, send, TestDb};

async fn create_table(t: &TestDb) {
    let ddl = match t.backend {
        Backend::Sqlite => {
            "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, owner_id BIGINT NOT NULL, \
             text TEXT NOT NULL, tag TEXT, version BIGINT NOT NULL DEFAULT 1)"
        }
        Backend::Postgres => {
            "CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, owner_id BIGINT NOT NULL, \
             text TEXT NOT NULL, tag TEXT, version BIGINT NOT NULL DEFAULT 1)"
        }
        Backend::MySql => {
            "CREATE TABLE notes (id BIGINT AUTO_INCREMENT PRIMARY KEY, owner_id BIGINT NOT NULL, \
             text TEXT NOT NULL, tag TEXT NULL, version BIGINT NOT NULL DEFAULT 1)"
        }
    };
    t.db.execute(ddl).await.expect("create notes");
}

async fn shadowed_model_serves(t: std::sync::Arc<TestDb>) {
    create_table(&t).await;
    // A row of another owner, outside the scope.
    t.db.execute("INSERT INTO notes (owner_id, text) VALUES (1, 'not mine')")
        .await
        .expect("seed");
    let app = axum::Router::new()
        .merge(Note::router())
        .with_state(t.db.clone());
    let created = send(&app, "POST", "/notes", &[], Some(r#"{"text":"mine"}"#)).await;
    assert_eq!(created.status.as_u16(), 201, "{:?}", created.json());
    let body = created.json();
    assert_eq!(
        body["owner_id"],
        shadowed::USER,
        "forced by `owner`: {body}"
    );
    assert_eq!(body["audited"], true, "post hook `audit` ran: {body}");
    let list = get(&app, "/notes").await.json();
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "scope `own`: {list}"
    );
    assert_eq!(list[0]["text"], "mine");
}

backend_tests!(shadowed_model_serves);

#[test]
fn model_reads_as_declared() {
    use expose_runtime::{Exposed, OperationKind as Op};
    let m = <Note as Exposed>::MODEL;
    assert_eq!(m.path, "notes");
    assert_eq!(m.doc, "A note, readable by its owner.");
    let names: Vec<&str> = m.fields.iter().map(|f| f.ident).collect();
    assert_eq!(names, ["id", "owner_id", "text", "tag", "version"]);
    assert!(m.fields[0].key && m.fields[0].generated);
    assert!(m.fields[3].nullable && m.fields[4].version && m.fields[4].default);
    let create = m.operation(Op::Create).expect("create");
    assert_eq!(create.fields, ["text", "tag"]);
    assert_eq!(create.force.len(), 1);
    assert!(!create.force[0].overwrite);
    let update = m.operation(Op::Update).expect("update");
    assert!(update.force[0].overwrite && update.require_if_match);
    let list = m.operation(Op::List).expect("list");
    assert_eq!((list.default_limit, list.max_limit), (10, 20));
    assert_eq!(list.forced_filters, ["id.gt.0"]);
    assert!(list.scope.is_some() && list.fields_for.is_some());
    assert_eq!(list.pre.len(), 1);
    assert!(m.operation(Op::Remove).expect("remove").scope.is_some());
}
