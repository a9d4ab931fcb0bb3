#[allow(dead_code)]
pub struct Post {
    pub id: i64,
    pub owner_id: i64,
    pub title: String,
    pub published: bool,
    pub version: i64,
}
/// Typed handles on the fields of [`Post`], for scopes and `fields_for`.
#[allow(dead_code, missing_docs, unused_qualifications)]
pub struct PostFields {
    pub id: ::expose_runtime::Col<Post, i64>,
    pub owner_id: ::expose_runtime::Col<Post, i64>,
    pub title: ::expose_runtime::Col<Post, String>,
    pub published: ::expose_runtime::Col<Post, bool>,
    pub version: ::expose_runtime::Col<Post, i64>,
}
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
const _: () = {
    use ::expose_runtime::__private as __e;
    fn __hook_signed_in(
        ctx: &mut __e::HookCtx,
    ) -> __e::BoxFuture<'_, __e::Result<(), __e::Problem>> {
        __e::hook_future(signed_in(ctx))
    }
    fn __scope_visible(ctx: &__e::HookCtx) -> __e::Result<__e::Scope<()>, __e::Problem> {
        let scope: fn(&__e::HookCtx) -> __e::Result<_, __e::Problem> = visible;
        let scope = __e::IntoScope::<Post>::into_scope(scope(ctx)?);
        __e::Ok(scope.erase())
    }
    fn __fields_for_hide_drafts_meta(
        ctx: &__e::HookCtx,
        bits: &mut u64,
    ) -> __e::Result<(), __e::Problem> {
        let fields_for: fn(
            &__e::HookCtx,
            &mut __e::FieldMask<Post>,
        ) -> __e::Result<(), __e::Problem> = hide_drafts_meta;
        let mut mask = __e::FieldMask::from_bits(*bits);
        fields_for(ctx, &mut mask)?;
        *bits &= mask.bits();
        __e::Ok(())
    }
    fn __hook_audit(
        ctx: &mut __e::HookCtx,
    ) -> __e::BoxFuture<'_, __e::Result<(), __e::Problem>> {
        __e::hook_future(audit(ctx))
    }
    fn __hook_notify(
        ctx: &mut __e::HookCtx,
    ) -> __e::BoxFuture<'_, __e::Result<(), __e::Problem>> {
        __e::hook_future(notify(ctx))
    }
    fn __force_owner_id_current_user_id(
        ctx: &__e::HookCtx,
    ) -> __e::Result<__e::Value, __e::Problem> {
        let force: fn(&__e::HookCtx) -> __e::Result<i64, __e::Problem> = current_user_id;
        force(ctx).map(__e::Value::from)
    }
    const __LIST: __e::Operation = __e::Operation {
        fields: &["id", "owner_id", "title", "published", "version"],
        forced_filters: &["published.eq.true"],
        pre: &[__hook_signed_in],
        scope: __e::Some(__scope_visible),
        fields_for: __e::Some(__fields_for_hide_drafts_meta),
        ..__e::Operation::of(__e::OperationKind::List)
    };
    const __RETRIEVE: __e::Operation = __e::Operation {
        fields: &["id", "owner_id", "title", "published", "version"],
        pre: &[__hook_signed_in],
        scope: __e::Some(__scope_visible),
        ..__e::Operation::of(__e::OperationKind::Retrieve)
    };
    const __CREATE: __e::Operation = __e::Operation {
        fields: &["owner_id", "title", "published"],
        pre: &[__hook_signed_in],
        post: &[__hook_audit, __hook_notify],
        scope: __e::Some(__scope_visible),
        force: &[
            __e::Force {
                field: "owner_id",
                overwrite: false,
                value: __force_owner_id_current_user_id,
            },
        ],
        ..__e::Operation::of(__e::OperationKind::Create)
    };
    const __UPDATE: __e::Operation = __e::Operation {
        fields: &["owner_id", "title", "published"],
        pre: &[__hook_signed_in],
        scope: __e::Some(__scope_visible),
        force: &[
            __e::Force {
                field: "owner_id",
                overwrite: true,
                value: __force_owner_id_current_user_id,
            },
        ],
        require_if_match: true,
        ..__e::Operation::of(__e::OperationKind::Update)
    };
    const __REMOVE: __e::Operation = __e::Operation {
        pre: &[__hook_signed_in],
        scope: __e::Some(__scope_visible),
        require_if_match: true,
        ..__e::Operation::of(__e::OperationKind::Remove)
    };
    #[automatically_derived]
    impl __e::Exposed for Post {
        type Row = Post;
        type Key = i64;
        const MODEL: &'static __e::Model = &__e::Model {
            rust_name: "Post",
            path: "posts",
            table: "posts",
            doc: "",
            fields: &[
                __e::Field::of::<i64>("id").key().generated(),
                __e::Field::of::<i64>("owner_id"),
                __e::Field::of::<String>("title"),
                __e::Field::of::<bool>("published"),
                __e::Field::of::<i64>("version").version(),
            ],
            operations: &[__LIST, __RETRIEVE, __CREATE, __UPDATE, __REMOVE],
            actions: &[],
            validate: __e::None,
            relations: &[],
        };
    }
};
#[automatically_derived]
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
impl Post {
    /// Typed handles on the fields, for scopes and `fields_for`.
    pub const FIELDS: PostFields = PostFields {
        id: ::expose_runtime::Col::<Post, i64>::new(0),
        owner_id: ::expose_runtime::Col::<Post, i64>::new(1),
        title: ::expose_runtime::Col::<Post, String>::new(2),
        published: ::expose_runtime::Col::<Post, bool>::new(3),
        version: ::expose_runtime::Col::<Post, i64>::new(4),
    };
    /// The model's description, for [`verify`](::expose_runtime::verify()) and
    /// [`create_table`](::expose_runtime::Model::create_table).
    pub const MODEL: &'static ::expose_runtime::Model = <Self as ::expose_runtime::Exposed>::MODEL;
    /// The routes of `/posts` and `/posts/{id}`, for any state that holds a [`Db`](::expose_runtime::Db).
    pub fn router<S>() -> ::expose_runtime::__private::Router<S>
    where
        S: ::expose_runtime::DbState,
    {
        Self::router_with(::core::default::Default::default())
    }
    /// The operations of `/posts` one by one: each as a handler to mount at any path, a router without some, and calls from custom handlers.
    pub fn endpoints() -> ::expose_runtime::Endpoints<Self> {
        ::expose_runtime::Endpoints::new()
    }
    /// Like `router()`, with settings such as the body size limit.
    pub fn router_with<S>(
        config: ::expose_runtime::RouterConfig,
    ) -> ::expose_runtime::__private::Router<S>
    where
        S: ::expose_runtime::DbState,
    {
        ::expose_runtime::__private::router::<Self, S>(config)
    }
}
