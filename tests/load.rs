//! Load: thousands of mixed requests (list, filtered list with a count, retrieve, create,
//! update, remove) from 32 concurrent HTTP/1.1 clients against the `people` example served on
//! a real loopback socket, on every backend. Every answer is checked against what was asked,
//! and the row count afterwards equals the seeded rows plus creates minus removes.

#[path = "../examples/people/app.rs"]
mod app;
mod support;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::TestDb;

/// Seeded rows; 1..=READ_ONLY are never written, the rest are handed out to the clients.
const SEEDED: u64 = 200;
const READ_ONLY: u64 = 100;
const CLIENTS: u64 = 32;
const REQUESTS_PER_CLIENT: u64 = 100;
/// Seeded rows each client owns (and may update or remove).
const OWNED: u64 = 3;

/// One keep-alive HTTP/1.1 connection.
struct Client {
    sender: SendRequest<Full<Bytes>>,
    /// Requests sent so far.
    sent: u64,
}

struct Answer {
    status: u16,
    headers: axum::http::HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(conn);
        Client { sender, sent: 0 }
    }

    async fn send(
        &mut self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Answer {
        let mut req = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "127.0.0.1");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .expect("request");
        self.sender.ready().await.expect("connection ready");
        self.sent += 1;
        let res = self
            .sender
            .send_request(req)
            .await
            .unwrap_or_else(|e| panic!("{method} {uri}: {e}"));
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        Answer {
            status,
            headers,
            body,
        }
    }
}

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    creates: AtomicU64,
    removes: AtomicU64,
}

/// A seeded row as the API shows it (without `created_at`).
fn seeded(n: u64) -> Value {
    let (name, email, age, is_admin, bio) = app::seed_row(n);
    serde_json::json!({
        "id": n, "name": name, "email": email, "age": age, "is_admin": is_admin, "bio": bio
    })
}

fn without_created_at(mut v: Value) -> Value {
    let created = v
        .as_object_mut()
        .and_then(|o| o.remove("created_at"))
        .expect("created_at");
    assert!(created.is_string());
    v
}

/// One client's share of the work; `c` numbers the client.
async fn client(addr: SocketAddr, c: u64, tally: Arc<Tally>) {
    let mut http = Client::connect(addr).await;
    let first_owned = READ_ONLY + 1 + c * OWNED;
    // Rows this client may write: (location, age it should have).
    let mut mine: Vec<(String, Option<i64>)> = (first_owned..first_owned + OWNED)
        .map(|n| (format!("/people/{n}"), None))
        .collect();
    let mut removed: Vec<String> = Vec::new();
    for i in 0..REQUESTS_PER_CLIENT {
        // A different mix per client, the same on every run.
        let pick = (i * 7 + c * 3) % 10;
        match pick {
            0 | 1 => {
                let offset = (i * 13 + c) % 150;
                let uri = format!("/people?limit=10&offset={offset}");
                let r = http.send("GET", &uri, &[], None).await;
                assert_eq!(r.status, 200, "{uri}: {}", r.text());
                let rows = r.json();
                let ids: Vec<i64> = rows
                    .as_array()
                    .expect("an array")
                    .iter()
                    .map(|o| o["id"].as_i64().unwrap())
                    .collect();
                assert!(ids.len() <= 10, "{uri}");
                assert!(ids.windows(2).all(|w| w[0] < w[1]), "{uri}: {ids:?}");
                // Rows 1..=100 are never removed, so the first pages are always full.
                if offset + 10 <= READ_ONLY {
                    let want: Vec<i64> = (offset as i64 + 1..=offset as i64 + 10).collect();
                    assert_eq!(ids, want, "{uri}");
                }
                assert!(rows[0].get("password").is_none());
            }
            2 => {
                let min = 18 + (i + c) % 60;
                let uri = format!("/people?age=gte.{min}&order=age.desc,id&limit=5");
                let r = http
                    .send("GET", &uri, &[("prefer", "count=exact")], None)
                    .await;
                assert!(
                    r.status == 200 || r.status == 206,
                    "{uri}: {} {}",
                    r.status,
                    r.text()
                );
                let rows = r.json();
                let rows = rows.as_array().expect("an array");
                assert!(rows.len() <= 5);
                assert!(rows
                    .iter()
                    .all(|o| o["age"].as_i64().unwrap() >= min as i64));
                let range = r.header("content-range").expect("Content-Range");
                let total: u64 = range.rsplit('/').next().unwrap().parse().expect("a total");
                assert!(total >= rows.len() as u64, "{range}");
                assert_eq!(r.status == 206, total > rows.len() as u64, "{range}");
            }
            3 | 4 => {
                let n = 1 + (i * 31 + c * 17) % READ_ONLY;
                let r = http.send("GET", &format!("/people/{n}"), &[], None).await;
                assert_eq!(r.status, 200, "{}", r.text());
                assert!(r.header("etag").is_some());
                assert_eq!(without_created_at(r.json()), seeded(n));
            }
            5 | 6 => {
                let age = 18 + (i + c) % 70;
                let body = format!(
                    r#"{{"name":"Load {c}-{i}","email":"load-{c}-{i}@example.com","password":"p","age":{age}}}"#
                );
                let r = http.send("POST", "/people", &[], Some(body)).await;
                assert_eq!(r.status, 201, "{}", r.text());
                let location = r.header("location").expect("Location").to_owned();
                let row = r.json();
                assert_eq!(location, format!("/people/{}", row["id"]));
                assert_eq!(row["email"], format!("load-{c}-{i}@example.com"));
                assert_eq!(row["age"], age);
                assert!(row.get("password").is_none());
                tally.creates.fetch_add(1, Ordering::Relaxed);
                mine.push((location, Some(age as i64)));
            }
            7 => {
                let Some(k) = (!mine.is_empty()).then(|| (i as usize) % mine.len()) else {
                    continue;
                };
                let uri = mine[k].0.clone();
                let age = 20 + (i * 3 + c) % 50;
                // Every other update is conditional on the tag just read.
                let tag = if i % 2 == 0 {
                    let r = http.send("GET", &uri, &[], None).await;
                    assert_eq!(r.status, 200, "{uri}: {}", r.text());
                    if let Some(want) = mine[k].1 {
                        assert_eq!(r.json()["age"], want, "{uri}");
                    }
                    r.header("etag").map(str::to_owned)
                } else {
                    None
                };
                let headers: Vec<(&str, &str)> =
                    tag.iter().map(|t| ("if-match", t.as_str())).collect();
                let r = http
                    .send("PATCH", &uri, &headers, Some(format!(r#"{{"age":{age}}}"#)))
                    .await;
                assert_eq!(r.status, 200, "PATCH {uri}: {}", r.text());
                assert_eq!(r.json()["age"], age);
                assert!(r.header("etag").is_some());
                mine[k].1 = Some(age as i64);
            }
            8 => {
                let Some((uri, _)) = mine.pop() else {
                    continue;
                };
                let r = http.send("DELETE", &uri, &[], None).await;
                assert_eq!(r.status, 204, "DELETE {uri}: {}", r.text());
                assert!(r.body.is_empty());
                tally.removes.fetch_add(1, Ordering::Relaxed);
                removed.push(uri);
            }
            _ => {
                // A removed row is gone; a live one reads back as last written.
                if let Some(uri) = removed.last() {
                    let r = http.send("GET", uri, &[], None).await;
                    assert_eq!(r.status, 404, "{uri}: {}", r.text());
                    assert_eq!(r.header("content-type"), Some("application/problem+json"));
                    let r = http.send("DELETE", uri, &[], None).await;
                    assert_eq!(r.status, 404, "{uri}: {}", r.text());
                } else if let Some((uri, age)) = mine.first() {
                    let r = http.send("GET", uri, &[], None).await;
                    assert_eq!(r.status, 200, "{uri}: {}", r.text());
                    if let Some(age) = age {
                        assert_eq!(r.json()["age"], *age);
                    }
                }
            }
        }
    }
    tally.requests.fetch_add(http.sent, Ordering::Relaxed);
}

async fn mixed_load(t: Arc<TestDb>) {
    app::create_table(&t.db).await.expect("create table");
    app::seed(&t.db, SEEDED).await.expect("seed");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serve = axum::serve(listener, app::app(t.db.clone())).with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    let server = tokio::spawn(async move { serve.await });
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| tokio::spawn(client(addr, c, tally.clone())))
        .collect();
    for c in clients {
        c.await.expect("a client failed");
    }
    let elapsed = started.elapsed();
    let (creates, removes) = (
        tally.creates.load(Ordering::Relaxed),
        tally.removes.load(Ordering::Relaxed),
    );
    let want = SEEDED + creates - removes;
    assert!(creates > 0 && removes > 0);
    assert_eq!(app::count(&t.db).await.unwrap() as u64, want);
    // The API agrees.
    let mut http = Client::connect(addr).await;
    let r = http
        .send("GET", "/people?limit=1", &[("prefer", "count=exact")], None)
        .await;
    assert_eq!(
        r.header("content-range"),
        Some(format!("0-0/{want}").as_str())
    );
    drop(http);
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server shut down")
        .expect("server task")
        .expect("server");
    eprintln!(
        "{:?}: {} requests ({creates} creates, {removes} removes) from {CLIENTS} clients \
         in {elapsed:?}",
        t.backend,
        tally.requests.load(Ordering::Relaxed)
    );
}

backend_tests!(mixed_load);
