//! Graceful shutdown for servers built with `expose`.

/// Resolves on Ctrl-C or SIGTERM. Pass it to
/// [`serve(...).with_graceful_shutdown`](crate::Serve::with_graceful_shutdown) (or
/// `axum::serve`'s): the server stops accepting, in-flight requests finish (their
/// transactions commit or roll back), then `serve` returns and the pool can be closed.
///
/// ```no_run
/// # async fn run(app: axum::Router) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// expose_runtime::serve(listener, app)
///     .with_graceful_shutdown(expose_runtime::shutdown_signal())
///     .await
/// # }
/// ```
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
