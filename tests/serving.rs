//! `expose_runtime::serve` over real loopback sockets, with raw `TcpStream` clients: slow,
//! silent and idle connections are closed by the header read timeout, the connection cap
//! refuses the surplus without exhausting file descriptors, oversized header sections and
//! declared bodies are refused unread, and graceful shutdown finishes requests in flight
//! within its bound. Timeouts are configured short; every wait in a test is bounded.

#[allow(dead_code)]
#[path = "../examples/people/app.rs"]
mod app;
mod support;

use axum::routing::get;
use axum::Router;
use expose_runtime::{Backend, ServeConfig};
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use support::TestDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout, timeout_at, Instant};

/// The header read timeout of most tests.
const HEADER_TIMEOUT: Duration = Duration::from_millis(300);
/// Allowed lateness of a close on a busy machine.
const SLACK: Duration = Duration::from_millis(1200);
const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

fn fast() -> ServeConfig {
    ServeConfig {
        header_read_timeout: HEADER_TIMEOUT,
        shutdown_timeout: Duration::from_secs(2),
        ..ServeConfig::default()
    }
}

/// `GET /` answers `hello`; `GET /slow` pings `entered`, then answers after 300 ms;
/// `GET /stuck` pings `entered` and never answers.
fn app(entered: Arc<Notify>) -> Router {
    let slow_entered = Arc::clone(&entered);
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route(
            "/slow",
            get(move || async move {
                slow_entered.notify_one();
                sleep(Duration::from_millis(300)).await;
                "slow"
            }),
        )
        .route(
            "/stuck",
            get(move || async move {
                entered.notify_one();
                sleep(Duration::from_secs(60)).await;
                "too late"
            }),
        )
}

/// A server on `127.0.0.1:0`, stopped by `stop`.
struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: JoinHandle<std::io::Result<()>>,
}

async fn start(app: Router, config: ServeConfig) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    let (stop, stopped) = oneshot::channel::<()>();
    let serve = expose_runtime::serve(listener, app)
        .with_config(config)
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
    Server {
        addr,
        stop: Some(stop),
        done: tokio::spawn(serve.into_future()),
    }
}

impl Server {
    /// Signals graceful shutdown.
    fn stop(&mut self) {
        let _ = self.stop.take().expect("stopped once").send(());
    }
}

async fn connect(addr: SocketAddr) -> TcpStream {
    timeout(Duration::from_secs(5), TcpStream::connect(addr))
        .await
        .expect("connect in time")
        .expect("connect")
}

/// Reads until the server closes the connection (EOF or reset); returns what it sent and how
/// long after `since` it closed. Panics if it is still open at `since + bound`.
async fn read_until_closed(
    stream: &mut TcpStream,
    since: Instant,
    bound: Duration,
) -> (String, Duration) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match timeout_at(since + bound, stream.read(&mut buf)).await {
            Err(_) => panic!(
                "the connection is still open {bound:?} later; it sent {:?}",
                String::from_utf8_lossy(&got)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (String::from_utf8_lossy(&got).into(), since.elapsed())
            }
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one whole response (head and `Content-Length` body), or `None` if the server closes
/// the connection first. Bounded to 5 s.
async fn read_response(stream: &mut TcpStream) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse::<usize>().expect("a length"));
            if got.len() >= end + 4 + len {
                return Some(String::from_utf8_lossy(&got[..end + 4 + len]).into());
            }
        }
        match timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => panic!(
                "no whole response in 5 s: {:?}",
                String::from_utf8_lossy(&got)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return None,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// A fresh connection's answer to `GET /`, or `None` if it was closed unanswered.
async fn try_get(addr: SocketAddr) -> Option<String> {
    let mut s = connect(addr).await;
    s.write_all(GET).await.ok()?;
    read_response(&mut s).await
}

fn assert_timely(what: &str, took: Duration, at_least: Duration, at_most: Duration) {
    eprintln!("{what}: closed after {took:?}");
    assert!(
        took >= at_least && took <= at_most,
        "{what}: closed after {took:?}, expected between {at_least:?} and {at_most:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off_at_the_header_timeout() {
    let server = start(app(Arc::default()), fast()).await;
    let stream = connect(server.addr).await;
    let since = Instant::now();
    let (mut read, mut write) = stream.into_split();
    // One byte every 20 ms of a header section that never ends, for at most 5 s.
    let dribble = tokio::spawn(async move {
        let head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
        for i in 0..250 {
            let byte = head.get(i).copied().unwrap_or(b'a');
            if write.write_all(&[byte]).await.is_err() {
                return;
            }
            sleep(Duration::from_millis(20)).await;
        }
    });
    let mut buf = [0u8; 256];
    // The server sends nothing: the first read is the close (EOF or reset).
    let first = timeout_at(since + HEADER_TIMEOUT + SLACK, read.read(&mut buf))
        .await
        .unwrap_or_else(|_| panic!("still open after {:?}", since.elapsed()));
    assert!(
        matches!(first, Ok(0) | Err(_)),
        "a slow header section got an answer"
    );
    assert_timely(
        "slow headers",
        since.elapsed(),
        HEADER_TIMEOUT / 2,
        HEADER_TIMEOUT + SLACK,
    );
    dribble.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_sends_is_closed() {
    let server = start(app(Arc::default()), fast()).await;
    let mut s = connect(server.addr).await;
    let since = Instant::now();
    let (got, took) = read_until_closed(&mut s, since, HEADER_TIMEOUT + SLACK).await;
    assert_eq!(got, "");
    assert_timely("silent", took, HEADER_TIMEOUT / 2, HEADER_TIMEOUT + SLACK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = start(app(Arc::default()), fast()).await;
    let mut s = connect(server.addr).await;
    s.write_all(GET).await.expect("send");
    let answer = read_response(&mut s).await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(!answer.to_ascii_lowercase().contains("connection: close"));
    let since = Instant::now();
    let (got, took) = read_until_closed(&mut s, since, HEADER_TIMEOUT + SLACK).await;
    assert_eq!(got, "");
    assert_timely(
        "idle keep-alive",
        took,
        HEADER_TIMEOUT / 3,
        HEADER_TIMEOUT + SLACK,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_refuses_the_surplus_and_recovers() {
    const CAP: usize = 3;
    let config = ServeConfig {
        max_connections: CAP,
        overload_wait: Duration::from_millis(50),
        // Longer than the test: the held connections keep their slots.
        header_read_timeout: Duration::from_secs(30),
        ..fast()
    };
    let server = start(app(Arc::default()), config).await;
    // Each slot is held by a keep-alive connection that has been answered once (so it is
    // certainly being served) and is now idle.
    let mut held = Vec::new();
    for _ in 0..CAP {
        let mut s = connect(server.addr).await;
        s.write_all(GET).await.expect("send");
        let answer = read_response(&mut s).await.expect("an answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        held.push(s);
    }
    // The next connections are closed unanswered: the first after `overload_wait`, the next
    // ones at once (the server is saturated).
    for n in 1..=3 {
        let mut over = connect(server.addr).await;
        let since = Instant::now();
        let _ = over.write_all(GET).await;
        let (got, took) = read_until_closed(&mut over, since, SLACK).await;
        assert_eq!(got, "", "connection {} over the cap was answered", CAP + n);
        eprintln!(
            "connection {} over a cap of {CAP}: closed after {took:?}",
            CAP + n
        );
    }
    // The connections holding the slots are still served.
    held[0].write_all(GET).await.expect("send");
    let answer = read_response(&mut held[0]).await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Closing one frees its slot once the server has seen the close: a new connection is
    // then served (retried, since that happens asynchronously; bounded to 4 s).
    drop(held.pop());
    let since = Instant::now();
    let mut attempts = 0;
    let answer = loop {
        attempts += 1;
        if let Some(answer) = try_get(server.addr).await {
            break answer;
        }
        assert!(since.elapsed() < Duration::from_secs(4), "no slot freed");
        sleep(Duration::from_millis(20)).await;
    };
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    eprintln!(
        "a freed slot served after {:?} ({attempts} attempts)",
        since.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_header_sections_are_refused() {
    let config = ServeConfig {
        max_header_bytes: 4096,
        ..fast()
    };
    let server = start(app(Arc::default()), config).await;
    let big = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    let many = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n{}\r\n",
        (0..150)
            .map(|i| format!("X-{i}: v\r\n"))
            .collect::<String>()
    );
    for (what, request) in [("20 kB header", big), ("150 headers", many)] {
        let mut s = connect(server.addr).await;
        let since = Instant::now();
        // The server may close before it has read everything: a failed write is fine.
        let _ = s.write_all(request.as_bytes()).await;
        let (got, took) = read_until_closed(&mut s, since, SLACK).await;
        eprintln!("{what}: {:?} after {took:?}", got.lines().next());
        assert!(
            got.is_empty() || got.starts_with("HTTP/1.1 431"),
            "{what}: {got}"
        );
    }
    // A header section under the bound is served.
    let fits = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fits: {}\r\n\r\n",
        "a".repeat(3000)
    );
    let mut s = connect(server.addr).await;
    s.write_all(fits.as_bytes()).await.expect("send");
    let answer = read_response(&mut s).await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_body_over_the_limit_is_refused_unread() {
    let t = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    app::create_table(&t.db).await.expect("create table");
    let server = start(app::app(t.db.clone()), fast()).await;
    let mut s = connect(server.addr).await;
    let since = Instant::now();
    s.write_all(
        b"POST /people HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 10485760\r\n\r\n{\"name\":",
    )
    .await
    .expect("send");
    let answer = read_response(&mut s).await.expect("an answer");
    let took = since.elapsed();
    eprintln!("declared 10 MiB body: answered after {took:?}");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(took < Duration::from_millis(500), "answered after {took:?}");
    t.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_requests_in_flight() {
    let entered = Arc::new(Notify::new());
    let config = ServeConfig {
        // Longer than the test: only shutdown closes the silent connection.
        header_read_timeout: Duration::from_secs(30),
        shutdown_timeout: Duration::from_secs(3),
        ..ServeConfig::default()
    };
    let mut server = start(app(Arc::clone(&entered)), config).await;
    let mut silent = connect(server.addr).await;
    let mut idle = connect(server.addr).await;
    idle.write_all(GET).await.expect("send");
    assert!(read_response(&mut idle).await.is_some());
    let mut slow = connect(server.addr).await;
    slow.write_all(b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("send");
    timeout(Duration::from_secs(5), entered.notified())
        .await
        .expect("the slow handler started");
    let since = Instant::now();
    server.stop();
    // Connections without a request in flight are closed at once...
    let (got, took) = read_until_closed(&mut silent, since, SLACK).await;
    assert_eq!(got, "");
    eprintln!("shutdown: silent connection closed after {took:?}");
    let (got, took) = read_until_closed(&mut idle, since, SLACK).await;
    assert_eq!(got, "");
    eprintln!("shutdown: idle connection closed after {took:?}");
    // ...and the listener is closed by then: a new connection is refused, or reset unanswered.
    if let Ok(mut late) = TcpStream::connect(server.addr).await {
        let _ = late.write_all(GET).await;
        let (got, _) = read_until_closed(&mut late, Instant::now(), SLACK).await;
        assert_eq!(got, "", "a connection after shutdown was answered");
    }
    // The request in flight is answered, and its connection closed.
    let answer = read_response(&mut slow).await.expect("the slow answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("slow"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    eprintln!(
        "shutdown: request in flight answered after {:?}",
        since.elapsed()
    );
    read_until_closed(&mut slow, since, SLACK).await;
    timeout(Duration::from_secs(3), server.done)
        .await
        .expect("shutdown within its bound")
        .expect("the server task")
        .expect("the server");
    let took = since.elapsed();
    eprintln!("shutdown: server returned after {took:?}");
    assert!(
        took >= Duration::from_millis(250),
        "returned after {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_gives_up_after_its_bound() {
    let entered = Arc::new(Notify::new());
    let bound = Duration::from_millis(400);
    let config = ServeConfig {
        shutdown_timeout: bound,
        ..fast()
    };
    let mut server = start(app(Arc::clone(&entered)), config).await;
    let mut stuck = connect(server.addr).await;
    stuck
        .write_all(b"GET /stuck HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("send");
    timeout(Duration::from_secs(5), entered.notified())
        .await
        .expect("the stuck handler started");
    let since = Instant::now();
    server.stop();
    timeout(bound + SLACK, server.done)
        .await
        .expect("shutdown within its bound")
        .expect("the server task")
        .expect("the server");
    let took = since.elapsed();
    eprintln!("shutdown with a stuck request: returned after {took:?}");
    assert!(took >= bound, "returned after {took:?}");
    let (got, _) = read_until_closed(&mut stuck, since, bound + SLACK).await;
    assert_eq!(got, "", "the stuck request was answered");
}

/// Set in the child process that `the_cap_holds_under_a_low_open_files_limit` starts.
const CHILD: &str = "EXPOSE_SERVING_CHILD";
const CHILD_CAP: usize = 16;
const CHILD_NOFILE: usize = 48;

/// The server of `the_cap_holds_under_a_low_open_files_limit`, run in a child process of
/// this test binary under `ulimit -n 48`; does nothing otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_server_under_a_low_open_files_limit() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter("warn")
        .try_init();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    println!("{CHILD}={}", listener.local_addr().expect("address"));
    let config = ServeConfig {
        max_connections: CHILD_CAP,
        overload_wait: Duration::from_millis(20),
        header_read_timeout: Duration::from_secs(1),
        ..ServeConfig::default()
    };
    // The parent kills it sooner; this only bounds an orphan's life.
    expose_runtime::serve(listener, app(Arc::default()))
        .with_config(config)
        .with_graceful_shutdown(sleep(Duration::from_secs(30)))
        .await
        .expect("serve");
}

/// 100 idle connections against a server whose process may open 48 files: without the cap it
/// would run out of file descriptors (`accept` failing with `EMFILE`); with a cap of 16 it
/// refuses the surplus, never fails to accept, and serves again once the idle ones time out.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_holds_under_a_low_open_files_limit() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {CHILD_NOFILE} && exec \"$0\" \"$@\""))
        .arg(&exe)
        .args([
            "child_server_under_a_low_open_files_limit",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // libtest may have written `test name ... ` on the same line.
            if let Some((_, addr)) = line.split_once(&format!("{CHILD}=")) {
                let _ = addr_tx.send(addr.trim().parse::<SocketAddr>().expect("an address"));
            }
        }
    });
    let logs = std::thread::spawn(move || {
        let mut logs = String::new();
        let _ = stderr.read_to_string(&mut logs);
        logs
    });
    let addr = tokio::task::spawn_blocking(move || addr_rx.recv_timeout(Duration::from_secs(20)))
        .await
        .expect("join");
    let Ok(addr) = addr else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "the child printed no address; its stderr: {}",
            logs.join().unwrap_or_default()
        );
    };

    let since = Instant::now();
    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(connect(addr).await);
    }
    // Served again once the held connections reach their header timeout (1 s); bounded.
    let answer = loop {
        if let Some(answer) = try_get(addr).await {
            break answer;
        }
        assert!(
            since.elapsed() < Duration::from_secs(8),
            "never served again"
        );
        sleep(Duration::from_millis(50)).await;
    };
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    eprintln!(
        "low open-files limit: served again after {:?}",
        since.elapsed()
    );
    assert!(
        child.try_wait().expect("child status").is_none(),
        "the child died"
    );
    child.kill().expect("stop the child");
    let _ = child.wait();
    let logs = logs.join().expect("the child's logs");
    assert!(logs.contains("connection limit reached"), "{logs}");
    assert!(!logs.contains("accept failed"), "{logs}");
    drop(idle);
}
