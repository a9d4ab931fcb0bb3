#[allow(dead_code)]
/// A post, exposed at `/posts`, written by a user and perhaps edited by another.
pub struct Post {
    pub id: i64,
    pub owner_id: i64,
    pub editor_id: Option<i64>,
    pub title: String,
}
/// Typed handles on the fields of [`Post`], for scopes and `fields_for`.
#[allow(dead_code, missing_docs, unused_qualifications)]
pub struct PostFields {
    pub id: ::expose_runtime::Col<Post, i64>,
    pub owner_id: ::expose_runtime::Col<Post, i64>,
    pub editor_id: ::expose_runtime::Col<Post, Option<i64>>,
    pub title: ::expose_runtime::Col<Post, String>,
}
#[allow(unused_qualifications, clippy::all, clippy::pedantic)]
const _: () = {
    use ::expose_runtime::__private as __e;
    fn __model_Author() -> &'static __e::Model {
        <Author as __e::Exposed>::MODEL
    }
    fn __model_Tag() -> &'static __e::Model {
        <Tag as __e::Exposed>::MODEL
    }
    fn __model_PostTag() -> &'static __e::Model {
        <PostTag as __e::Exposed>::MODEL
    }
    const __LIST: __e::Operation = __e::Operation {
        fields: &["id", "owner_id", "editor_id", "title"],
        embed_depth: 2,
        embed_rows: 20,
        embed: &[__model_Author],
        embed_through: &[
            {
                const _: () = __e::joins::<Post, Tag, PostTag>();
                __e::Through {
                    target: __model_Tag,
                    join: __model_PostTag,
                }
            },
        ],
        ..__e::Operation::of(__e::OperationKind::List)
    };
    const __RETRIEVE: __e::Operation = __e::Operation {
        fields: &["id", "owner_id", "editor_id", "title"],
        embed: &[__model_Author],
        ..__e::Operation::of(__e::OperationKind::Retrieve)
    };
    impl __e::References<Author> for Post {}
    #[automatically_derived]
    impl __e::Exposed for Post {
        type Row = Post;
        type Key = i64;
        const MODEL: &'static __e::Model = &__e::Model {
            rust_name: "Post",
            path: "posts",
            table: "posts",
            doc: "A post, exposed at `/posts`, written by a user and perhaps edited by another.",
            fields: &[
                __e::Field::of::<i64>("id").key().generated(),
                __e::Field::of::<i64>("owner_id"),
                __e::Field::of::<Option<i64>>("editor_id"),
                __e::Field::of::<String>("title"),
            ],
            operations: &[__LIST, __RETRIEVE],
            actions: &[],
            validate: __e::None,
            relations: &[
                {
                    const _: () = __e::same_key::<Author, i64>();
                    __e::Relation {
                        field: "owner_id",
                        target: __model_Author,
                    }
                },
                {
                    const _: () = __e::same_key::<Author, i64>();
                    __e::Relation {
                        field: "editor_id",
                        target: __model_Author,
                    }
                },
            ],
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
        editor_id: ::expose_runtime::Col::<Post, Option<i64>>::new(2),
        title: ::expose_runtime::Col::<Post, String>::new(3),
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
