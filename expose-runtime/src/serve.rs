//! Serving a router over TCP with every wait bounded: [`serve()`] and [`ServeConfig`].
//!
//! `axum::serve` keeps a connection for as long as the client keeps it open and accepts as
//! many as arrive, so slow or idle clients can hold every file descriptor. This module drives
//! hyper's HTTP/1.1 server directly (as `axum::serve` does through hyper-util, but with
//! hyper's `http1::Builder`, whose header read timeout starts as soon as the connection is
//! served: hyper-util's `auto::Builder` first waits, without a timer, for the bytes that tell
//! HTTP/1 from HTTP/2) and bounds what each client can hold.

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::BoxFuture;

/// hyper's own limit on the number of header fields; other values cost a heap allocation
/// per request, so hyper is only told about a different one.
const HYPER_MAX_HEADERS: usize = 100;

/// Pause after an accept error that is not about one connection (`EMFILE`, `ENFILE`,
/// `ENOBUFS`...): the pending connection stays queued, so accepting again at once would spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The bounds [`serve()`] applies to every connection; `Default` gives the values below.
///
/// ```
/// use expose_runtime::ServeConfig;
/// use std::time::Duration;
///
/// let config = ServeConfig {
///     max_connections: 256,
///     shutdown_timeout: Duration::from_secs(5),
///     ..ServeConfig::default()
/// };
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// How long a client has to send a request's whole header section (default 10 s). The
    /// clock starts when the connection is accepted and again each time a keep-alive
    /// connection goes idle after a response, so it also closes connections that never send
    /// a request and keep-alive connections left idle between requests (hyper's
    /// `header_read_timeout`). The connection is closed without an answer. It does not bound
    /// reading a body or writing a response; an exposed operation's body is read within its
    /// [`RouterConfig::request_timeout`](crate::RouterConfig::request_timeout).
    pub header_read_timeout: Duration,
    /// Most connections served at once (default 512). It must stay below the process's
    /// open-files limit (`ulimit -n`, often 1 024) minus the database pool's connections and
    /// the few files the process holds otherwise (listener, logs, SQLite files): every
    /// connection is a file descriptor. Past it a new connection waits up to
    /// [`overload_wait`](Self::overload_wait) for a slot, then is closed at once.
    pub max_connections: usize,
    /// How long a connection accepted over [`max_connections`](Self::max_connections) waits
    /// for a slot before it is closed (default 100 ms). While the server is saturated (a wait
    /// has already run out and no slot has freed since), further connections are closed
    /// without waiting, so a flood is refused at the rate it arrives.
    pub overload_wait: Duration,
    /// Largest request header section, request line included, in bytes (default 16 KiB).
    /// Beyond it the request is answered 431 and the connection closed.
    pub max_header_bytes: usize,
    /// Most header fields in one request (default 100, hyper's own). Beyond it the request is
    /// answered 431 and the connection closed.
    pub max_headers: usize,
    /// How long graceful shutdown waits for in-flight requests (default 10 s). Once the
    /// signal given to [`Serve::with_graceful_shutdown`] resolves, the listener is closed
    /// (new connections are refused), idle connections and those that have not sent a
    /// request yet are closed, and requests in flight finish (with `Connection: close`).
    /// Connections still open after this long are closed and their requests dropped: a
    /// transaction that has not committed rolls back.
    pub shutdown_timeout: Duration,
}

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 512,
            overload_wait: Duration::from_millis(100),
            max_header_bytes: 16 * 1024,
            max_headers: HYPER_MAX_HEADERS,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl ServeConfig {
    /// Refuses settings that would make the server refuse everything or panic in hyper.
    fn check(&self) -> io::Result<()> {
        let invalid = |what: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, what));
        if self.max_connections == 0 || self.max_connections > Semaphore::MAX_PERMITS {
            return invalid("ServeConfig::max_connections must be at least 1 and at most tokio's Semaphore::MAX_PERMITS");
        }
        if self.max_header_bytes == 0 || self.max_headers == 0 {
            return invalid("ServeConfig::max_header_bytes and max_headers must be at least 1");
        }
        if self.header_read_timeout.is_zero() {
            return invalid("ServeConfig::header_read_timeout must not be zero");
        }
        Ok(())
    }

    /// hyper's HTTP/1.1 connection settings.
    fn http1(&self) -> http1::Builder {
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_header_size(self.max_header_bytes);
        if self.max_headers != HYPER_MAX_HEADERS {
            http.max_headers(self.max_headers);
        }
        http
    }
}

/// Serves `app` on `listener` over HTTP/1.1 with the bounds of [`ServeConfig`]: a drop-in
/// for `axum::serve` that a slow, idle or numerous client cannot wear down.
///
/// Await the result (it implements [`IntoFuture`]); without
/// [`with_graceful_shutdown`](Serve::with_graceful_shutdown) it serves for ever. Errors
/// accepting a connection never end it: one connection's error is skipped, and running out
/// of file descriptors (or buffers) is logged and retried after a short pause. HTTP upgrades
/// (WebSocket) and HTTP/2 are not served.
///
/// ```no_run
/// use expose_runtime::ServeConfig;
/// use std::time::Duration;
///
/// # async fn run(app: axum::Router) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// expose_runtime::serve(listener, app)
///     .with_config(ServeConfig {
///         header_read_timeout: Duration::from_secs(5),
///         ..ServeConfig::default()
///     })
///     .with_graceful_shutdown(expose_runtime::shutdown_signal())
///     .await
/// # }
/// ```
pub fn serve(listener: TcpListener, app: Router) -> Serve {
    Serve {
        listener,
        app,
        config: ServeConfig::default(),
        signal: Box::pin(std::future::pending()),
    }
}

/// A server not started yet, made by [`serve()`]; `.await` it to run it.
#[must_use = "a server does nothing until it is awaited"]
pub struct Serve {
    listener: TcpListener,
    app: Router,
    config: ServeConfig,
    signal: BoxFuture<'static, ()>,
}

impl Serve {
    /// Serves with these bounds instead of `ServeConfig::default()`.
    pub fn with_config(mut self, config: ServeConfig) -> Serve {
        self.config = config;
        self
    }

    /// Shuts down gracefully when `signal` resolves (see
    /// [`ServeConfig::shutdown_timeout`]); the server's future then resolves once the last
    /// connection is closed. [`shutdown_signal`](crate::shutdown_signal) resolves on Ctrl-C
    /// or SIGTERM.
    pub fn with_graceful_shutdown<F>(mut self, signal: F) -> Serve
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.signal = Box::pin(signal);
        self
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    async fn run(self) -> io::Result<()> {
        let Serve {
            listener,
            app,
            config,
            mut signal,
        } = self;
        config.check()?;
        let http = config.http1();
        let slots = Arc::new(Semaphore::new(config.max_connections));
        let (stop, stopped) = watch::channel(false);
        let mut connections = JoinSet::new();
        let mut saturated = false;
        loop {
            while let Some(done) = connections.try_join_next() {
                log_panic(done);
            }
            let (stream, slot) = tokio::select! {
                biased;
                () = &mut signal => break,
                admitted = admit(&listener, &slots, &config, &mut saturated) => admitted,
            };
            connections.spawn(connection(
                stream,
                app.clone(),
                http.clone(),
                stopped.clone(),
                slot,
            ));
        }
        drop(listener);
        while let Some(done) = connections.try_join_next() {
            log_panic(done);
        }
        tracing::info!(
            connections = connections.len(),
            "listener closed; finishing requests in flight"
        );
        let _ = stop.send(true);
        let drained = tokio::time::timeout(config.shutdown_timeout, async {
            while let Some(done) = connections.join_next().await {
                log_panic(done);
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                connections = connections.len(),
                timeout = ?config.shutdown_timeout,
                "graceful shutdown timed out; closing the remaining connections"
            );
            connections.shutdown().await;
        }
        Ok(())
    }
}

impl IntoFuture for Serve {
    type Output = io::Result<()>;
    type IntoFuture = BoxFuture<'static, io::Result<()>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

impl fmt::Debug for Serve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The next connection to serve, with its slot. Connections over the cap wait for a slot up
/// to `overload_wait` (not at all while the server is saturated) and are otherwise closed.
async fn admit(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
    config: &ServeConfig,
    saturated: &mut bool,
) -> (TcpStream, OwnedSemaphorePermit) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                accept_error(e).await;
                continue;
            }
        };
        if let Ok(slot) = Arc::clone(slots).try_acquire_owned() {
            *saturated = false;
            return (stream, slot);
        }
        if !*saturated {
            let wait =
                tokio::time::timeout(config.overload_wait, Arc::clone(slots).acquire_owned());
            if let Ok(Ok(slot)) = wait.await {
                return (stream, slot);
            }
            *saturated = true;
            tracing::warn!(
                max_connections = config.max_connections,
                "connection limit reached; refusing new connections until a slot frees"
            );
        }
        tracing::debug!(%peer, "connection refused: connection limit reached");
        drop(stream);
    }
}

/// Skips errors about one connection; pauses on the others (out of file descriptors or
/// buffers), which accepting again at once would only repeat.
async fn accept_error(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, pause = ?ACCEPT_ERROR_PAUSE, "accept failed; retrying after a pause");
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}

/// Serves one connection until it closes, or until shutdown: then a connection that has not
/// sent a request is closed at once, and the others finish the request in flight.
async fn connection(
    stream: TcpStream,
    app: Router,
    http: http1::Builder,
    mut stopped: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    // Set by hyper's call of the service, in the same poll that parsed the request's head.
    let started = Arc::new(AtomicBool::new(false));
    let service = {
        let started = Arc::clone(&started);
        hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            started.store(true, Ordering::Relaxed);
            app.clone().oneshot(req)
        })
    };
    let conn = http.serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => return log_closed(result),
        _ = stopped.wait_for(|stop| *stop) => {}
    }
    if !started.load(Ordering::Relaxed) {
        return;
    }
    // Closes an idle keep-alive connection at once; otherwise the request in flight is
    // answered with `Connection: close`.
    conn.as_mut().graceful_shutdown();
    log_closed(conn.await);
}

fn log_closed(result: hyper::Result<()>) {
    if let Err(e) = result {
        // Header timeouts, resets and malformed requests: the client's doing.
        tracing::debug!(error = %e, "connection closed with an error");
    }
}

fn log_panic(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        if e.is_panic() {
            tracing::error!(error = %e, "a connection's task panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settings_that_would_refuse_everything_are_refused() {
        let configs = [
            ServeConfig {
                max_connections: 0,
                ..ServeConfig::default()
            },
            ServeConfig {
                header_read_timeout: Duration::ZERO,
                ..ServeConfig::default()
            },
            ServeConfig {
                max_headers: 0,
                ..ServeConfig::default()
            },
        ];
        for config in configs {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let refused = serve(listener, Router::new()).with_config(config).await;
            assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::InvalidInput);
        }
    }
}
