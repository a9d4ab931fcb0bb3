//! The settings of the routers `#[expose]` builds, which every request is served under.

use std::time::Duration;

/// Settings of the routers `#[expose]` builds; `Default` gives safe limits.
///
/// ```
/// use expose_runtime::RouterConfig;
/// let config = RouterConfig {
///     body_limit: 64 * 1024,
///     ..RouterConfig::default()
/// };
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
pub struct RouterConfig {
    /// Largest request body accepted, in bytes (413 beyond; default 1 MiB).
    pub body_limit: usize,
    /// Longest query string accepted, in bytes (414 beyond; default 8 KiB).
    pub max_query_length: usize,
    /// How long one request may take (default 30 s; `tokio::time::timeout`, so it follows
    /// tokio's clock). Past it, a request whose write was not yet sent is answered 504 and
    /// its transaction rolled back: nothing was written. A write whose statement (or
    /// `COMMIT`) was already sent is answered 500 `outcome-unknown` at the deadline: the
    /// database decides it, and the answer says that it may or may not have been applied.
    pub request_timeout: Duration,
    /// How long the answer to a write (create, update, remove) sent with an
    /// `Idempotency-Key` header is kept, so that a retry with the same key gets it again
    /// instead of writing again (default `None`: the header is ignored). The answers live in
    /// the table `expose_idempotency`, which
    /// [`Db::create_idempotency_table`](crate::Db::create_idempotency_table) creates, and
    /// are stored in the write's own transaction. A retry with the same key and another
    /// request is refused 422; one while the first is still running, 409; a malformed key,
    /// 400.
    pub idempotency_keys: Option<Duration>,
}

impl Default for RouterConfig {
    fn default() -> RouterConfig {
        RouterConfig {
            body_limit: crate::body::DEFAULT_BODY_LIMIT,
            max_query_length: 8 * 1024,
            request_timeout: Duration::from_secs(30),
            idempotency_keys: None,
        }
    }
}
