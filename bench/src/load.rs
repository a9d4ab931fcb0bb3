//! The load generator: HTTP/1.1 keep-alive connections (hyper's client connection, one per
//! simulated client) to a server on loopback, each sending its next request as soon as the
//! previous answer's body has arrived. A run stops at a request count or a deadline,
//! whichever comes first.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The workloads of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// `GET /people/{id}`, a random seeded id.
    Retrieve,
    /// `GET /people?limit=100`: the first 100 rows by id.
    List,
    /// `GET /people_hooked?limit=100`: the list behind a pre hook that runs no SQL (the
    /// generated side) or the same check written by hand.
    ListHooked,
    /// `GET /people?age=gte.30&is_admin=eq.false&order=age.desc&limit=100` with
    /// `Prefer: count=exact`.
    ListFiltered,
    /// `POST /people` with a new e-mail each time.
    Create,
    /// `PATCH /people/{id}` of the age and bio of a random seeded id.
    Update,
    /// `DELETE /people/{id}` of rows inserted for the purpose.
    Remove,
    /// 80 % retrieve, 10 % list of 20 filtered rows, 10 % update.
    Mixed,
    /// `POST /people` of a JSON array of [`BULK_ROWS`] new people (new e-mails) with
    /// `Prefer: return=representation`: 201 and the rows, as an array.
    BulkCreate,
    /// `PATCH /people?id=gte.{a}&id=lt.{a+100}` of the age, no `Prefer`: 204; `a` random,
    /// so that the [`FILTERED_ROWS`] rows are all seeded ones.
    UpdateFiltered,
    /// `POST /people?on_conflict=email` of one person with
    /// `Prefer: resolution=merge-duplicates, return=representation`: every other request a
    /// seeded e-mail (a merge: 200 and a one-row array), the others a new one (an insert: 201).
    Upsert,
    /// `GET /articles?select=id,title,authors(name)&limit=100`: 100 articles, each with its
    /// author (issue 29; the reference joins).
    EmbedAuthor,
    /// `GET /authors?select=id,name,articles(id,title)&articles.order=id.desc&articles.limit=5&limit=20`:
    /// 20 authors with their last 5 articles (the reference runs a second query).
    EmbedArticles,
}

/// Rows in one [`Workload::BulkCreate`] request.
pub const BULK_ROWS: u64 = 100;

/// Rows one [`Workload::UpdateFiltered`] request changes.
pub const FILTERED_ROWS: u64 = 100;

impl Workload {
    /// Every workload, in the order the benchmark runs them (create before remove).
    /// The PostgREST writes (bulk create, update by filters, upsert) come last: they grow
    /// the table and rewrite seeded ages, which the workloads before them read.
    pub const ALL: [Workload; 13] = [
        Workload::Retrieve,
        Workload::List,
        Workload::ListHooked,
        Workload::ListFiltered,
        Workload::EmbedAuthor,
        Workload::EmbedArticles,
        Workload::Create,
        Workload::Update,
        Workload::Remove,
        Workload::Mixed,
        Workload::BulkCreate,
        Workload::UpdateFiltered,
        Workload::Upsert,
    ];

    /// The name used on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Retrieve => "retrieve",
            Workload::List => "list",
            Workload::ListHooked => "list-hooked",
            Workload::ListFiltered => "list-filtered",
            Workload::Create => "create",
            Workload::Update => "update",
            Workload::Remove => "remove",
            Workload::Mixed => "mixed",
            Workload::BulkCreate => "bulk-create",
            Workload::UpdateFiltered => "update-filtered",
            Workload::Upsert => "upsert",
            Workload::EmbedAuthor => "embed-author",
            Workload::EmbedArticles => "embed-articles",
        }
    }

    /// What the workload sends, for the report.
    pub fn description(self) -> &'static str {
        match self {
            Workload::Retrieve => "`GET /people/{id}` (random seeded id)",
            Workload::List => "`GET /people?limit=100`",
            Workload::ListHooked => {
                "`GET /people_hooked?limit=100` (a list pre hook that runs no SQL)"
            }
            Workload::ListFiltered => {
                "`GET /people?age=gte.30&is_admin=eq.false&order=age.desc&limit=100`, \
                 `Prefer: count=exact`"
            }
            Workload::Create => "`POST /people` (new e-mail each time)",
            Workload::Update => "`PATCH /people/{id}` `{\"age\",\"bio\"}` (random seeded id)",
            Workload::Remove => "`DELETE /people/{id}` (rows inserted for it before each round)",
            Workload::Mixed => "80 % retrieve, 10 % `GET /people?age=gte.40&limit=20`, 10 % update",
            Workload::BulkCreate => {
                "`POST /people` of a JSON array of 100 new people, \
                 `Prefer: return=representation` (201, the rows)"
            }
            Workload::UpdateFiltered => {
                "`PATCH /people?id=gte.{a}&id=lt.{a+100}` `{\"age\"}` (100 seeded rows, random \
                 `a`; 204)"
            }
            Workload::Upsert => {
                "`POST /people?on_conflict=email` of one person, \
                 `Prefer: resolution=merge-duplicates, return=representation` (half a seeded \
                 e-mail: 200, half a new one: 201)"
            }
            Workload::EmbedAuthor => {
                "`GET /articles?select=id,title,authors(name)&limit=100` (100 articles with their \
                 author; reference: a `LEFT JOIN`)"
            }
            Workload::EmbedArticles => {
                "`GET /authors?select=id,name,articles(id,title)&articles.order=id.desc&\
                 articles.limit=5&limit=20` (20 authors with their last 5 articles; reference: a \
                 second query with `ROW_NUMBER()`)"
            }
        }
    }

    /// Parses a name given on the command line.
    pub fn parse(s: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == s)
    }

    /// Whether the workload writes (its rows need no warm-up before measuring).
    pub fn writes(self) -> bool {
        matches!(
            self,
            Workload::Create
                | Workload::Update
                | Workload::Remove
                | Workload::Mixed
                | Workload::BulkCreate
                | Workload::UpdateFiltered
                | Workload::Upsert
        )
    }
}

/// What one run sends.
#[derive(Clone, Debug)]
pub enum Traffic {
    /// A workload over the seeded rows `1..=seed_rows`.
    Workload {
        /// Which.
        workload: Workload,
        /// How many rows were seeded (ids `1..=seed_rows`).
        seed_rows: u64,
        /// Ids to delete ([`Workload::Remove`]); the run stops when they are used up.
        remove_ids: Range<i64>,
        /// Distinguishes this run's new e-mail addresses.
        tag: String,
    },
    /// One fixed `GET` (path and query), optionally with a `Prefer: count=...`.
    Get {
        /// Path and query.
        path: String,
        /// The `Prefer` header to send (`count=exact`, `count=planned`), if any.
        count: Option<&'static str>,
    },
}

/// The outcome of one run against one server.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    /// Answers received with the expected status.
    pub ok: u64,
    /// Answers with another status, or transport errors.
    pub errors: u64,
    /// The first error, for the report.
    pub first_error: Option<String>,
    /// Wall time from the first request to the last answer.
    pub elapsed: Duration,
    /// Latency of each successful request, in microseconds.
    pub latencies_us: Vec<u32>,
}

impl RunResult {
    /// Adds another run's figures to this one.
    pub fn merge(&mut self, other: RunResult) {
        self.ok += other.ok;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.elapsed += other.elapsed;
        self.latencies_us.extend(other.latencies_us);
    }

    /// Successful requests per second.
    pub fn rps(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.ok as f64 / s
        } else {
            0.0
        }
    }
}

/// A percentile (0..=100) of sorted latencies, in microseconds.
pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A small, fast generator of request parameters (xorshift64*).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub(crate) type Body = Full<Bytes>;

/// `GET path`, optionally with `Prefer: <count>`, and the statuses it expects.
pub(crate) fn get(
    path: String,
    count: Option<&'static str>,
) -> (Request<Body>, &'static [StatusCode]) {
    let mut b = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(HOST, "127.0.0.1");
    if let Some(count) = count {
        b = b.header("prefer", count);
    }
    let req = b.body(Full::new(Bytes::new())).expect("a valid request");
    (req, &[StatusCode::OK, StatusCode::PARTIAL_CONTENT])
}

fn with_json(method: Method, path: String, body: String) -> Request<Body> {
    with_json_prefer(method, path, None, body)
}

fn with_json_prefer(
    method: Method,
    path: String,
    prefer: Option<&'static str>,
    body: String,
) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, "127.0.0.1")
        .header(CONTENT_TYPE, "application/json");
    if let Some(p) = prefer {
        b = b.header("prefer", p);
    }
    b.body(Full::new(Bytes::from(body)))
        .expect("a valid request")
}

/// A number in `0..n` that depends only on `tag` and `i` (FNV-1a).
fn hashed(tag: &str, i: u64, n: u64) -> u64 {
    let h = tag
        .bytes()
        .map(u64::from)
        .chain(i.to_le_bytes().map(u64::from))
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ b).wrapping_mul(0x100_0000_01b3)
        });
    h % n.max(1)
}

/// `PATCH /people/{id}` of the seeded age and a new bio (request `n` of the run `tag`).
pub(crate) fn update(id: u64, n: u64, tag: &str) -> (Request<Body>, &'static [StatusCode]) {
    // The age is the seeded one, so the filtered lists keep matching the same rows. The bio
    // carries the run's tag: both sides of a round update the same rows in the same order,
    // and the second would otherwise write the values the first just wrote, which MariaDB
    // answers without writing anything ("changed: 0"), so whichever side ran second in a
    // round looked 40 % faster.
    let (_, _, age, _, _) = crate::app::seed_row(id);
    let body = format!(r#"{{"age":{age},"bio":"Bio updated {tag} {n}"}}"#);
    (
        with_json(Method::PATCH, format!("/people/{id}"), body),
        &[StatusCode::OK],
    )
}

/// `POST /people` of a new person (request `n` of the run `tag`: a new e-mail address).
pub(crate) fn create(n: u64, tag: &str) -> (Request<Body>, &'static [StatusCode]) {
    // Age 17 is below every seeded age: new rows never join the filtered lists.
    let body = format!(
        r#"{{"name":"Bench {tag} {n}","email":"bench-{tag}-{n}@example.com","password":"pw-{n}","age":17,"bio":"created by the benchmark"}}"#
    );
    (
        with_json(Method::POST, "/people".into(), body),
        &[StatusCode::CREATED],
    )
}

/// `POST /people` of [`BULK_ROWS`] new people as one JSON array, asking for them back
/// (request `n` of the run `tag`: new e-mail addresses).
pub(crate) fn bulk_create(n: u64, tag: &str) -> (Request<Body>, &'static [StatusCode]) {
    use std::fmt::Write;
    // Age 17, as `create`: new rows never join the filtered lists.
    let mut body = String::with_capacity(120 * BULK_ROWS as usize);
    body.push('[');
    for i in 0..BULK_ROWS {
        if i > 0 {
            body.push(',');
        }
        let _ = write!(
            body,
            r#"{{"name":"Bulk {tag} {n} {i}","email":"bulk-{tag}-{n}-{i}@example.com","password":"pw-{n}","age":17,"bio":"created by the benchmark"}}"#
        );
    }
    body.push(']');
    (
        with_json_prefer(
            Method::POST,
            "/people".into(),
            Some("return=representation"),
            body,
        ),
        &[StatusCode::CREATED],
    )
}

/// `PATCH /people?id=gte.{first}&id=lt.{first + FILTERED_ROWS}` of the age (request `n` of
/// the run `tag`), no `Prefer`: 204.
pub(crate) fn update_filtered(
    first: u64,
    n: u64,
    tag: &str,
) -> (Request<Body>, &'static [StatusCode]) {
    // An age in the seeded range (18..=77) drawn from the run's tag and the request's
    // number: both sides of a round change the same rows in the same order, and the second
    // must not write the values the first just wrote (MariaDB skips a row whose values do
    // not change, see `update`); the two sides' values agree for 1 request in 60.
    let age = 18 + hashed(tag, n, 60);
    let end = first + FILTERED_ROWS;
    (
        with_json(
            Method::PATCH,
            format!("/people?id=gte.{first}&id=lt.{end}"),
            format!(r#"{{"age":{age}}}"#),
        ),
        &[StatusCode::NO_CONTENT],
    )
}

/// `POST /people?on_conflict=email` of one person (request `n` of the run `tag`): the
/// seeded row `id`'s e-mail when `existing` (merged: 200), else a new one (inserted: 201).
pub(crate) fn upsert(
    id: u64,
    existing: bool,
    n: u64,
    tag: &str,
) -> (Request<Body>, &'static [StatusCode]) {
    let body = if existing {
        // The seeded name, e-mail and age, so the filtered lists keep matching the same
        // rows; a bio of the run's own, so the row changes (see `update`).
        let (name, email, age, _, _) = crate::app::seed_row(id);
        format!(
            r#"{{"name":"{name}","email":"{email}","password":"pw-{n}","age":{age},"bio":"Upserted {tag} {n}"}}"#
        )
    } else {
        format!(
            r#"{{"name":"Upsert {tag} {n}","email":"upsert-{tag}-{n}@example.com","password":"pw-{n}","age":17,"bio":"Upserted {tag} {n}"}}"#
        )
    };
    let expected: &'static [StatusCode] = if existing {
        &[StatusCode::OK]
    } else {
        &[StatusCode::CREATED]
    };
    (
        with_json_prefer(
            Method::POST,
            "/people?on_conflict=email".into(),
            Some("resolution=merge-duplicates, return=representation"),
            body,
        ),
        expected,
    )
}

/// `DELETE /people/{id}`.
pub(crate) fn remove(id: i64) -> (Request<Body>, &'static [StatusCode]) {
    let req = Request::builder()
        .method(Method::DELETE)
        .uri(format!("/people/{id}"))
        .header(HOST, "127.0.0.1")
        .body(Full::new(Bytes::new()))
        .expect("a valid request");
    (req, &[StatusCode::NO_CONTENT])
}

/// The request number `n` of a run (`None` when there is nothing left to send).
fn request(
    traffic: &Traffic,
    n: u64,
    rng: &mut Rng,
) -> Option<(Request<Body>, &'static [StatusCode])> {
    let (workload, seed_rows, remove_ids, tag) = match traffic {
        Traffic::Get { path, count } => return Some(get(path.clone(), *count)),
        Traffic::Workload {
            workload,
            seed_rows,
            remove_ids,
            tag,
        } => (*workload, *seed_rows, remove_ids, tag),
    };
    let id = 1 + rng.below(seed_rows);
    Some(match workload {
        Workload::Retrieve => get(format!("/people/{id}"), None),
        Workload::List => get("/people?limit=100".into(), None),
        Workload::ListHooked => get("/people_hooked?limit=100".into(), None),
        Workload::ListFiltered => get(
            "/people?age=gte.30&is_admin=eq.false&order=age.desc&limit=100".into(),
            Some("count=exact"),
        ),
        Workload::Create => create(n, tag),
        Workload::Update => update(id, n, tag),
        Workload::Remove => {
            let id = remove_ids.start.checked_add(i64::try_from(n).ok()?)?;
            if id >= remove_ids.end {
                return None;
            }
            remove(id)
        }
        Workload::Mixed => match rng.below(100) {
            0..80 => get(format!("/people/{id}"), None),
            80..90 => get("/people?age=gte.40&limit=20".into(), None),
            _ => update(id, n, tag),
        },
        Workload::BulkCreate => bulk_create(n, tag),
        Workload::UpdateFiltered => {
            // The first id of FILTERED_ROWS seeded ones (fewer when fewer were seeded).
            let first = 1 + rng.below(seed_rows.saturating_sub(FILTERED_ROWS - 1));
            update_filtered(first, n, tag)
        }
        // Every other request merges into a seeded row.
        Workload::Upsert => upsert(id, n.is_multiple_of(2), n, tag),
        Workload::EmbedAuthor => get(
            "/articles?select=id,title,authors(name)&limit=100".into(),
            None,
        ),
        Workload::EmbedArticles => get(
            "/authors?select=id,name,articles(id,title)&articles.order=id.desc&articles.limit=5&limit=20"
                .into(),
            None,
        ),
    })
}

/// Request `n` of `workload` on its own (run `tag`, rows `1..=seed_rows` seeded, random
/// draws seeded by `seed`), as [`run`] would send it, and the statuses it expects: for
/// checks that both sides answer it alike (remove: it deletes the row `seed_rows + 1 + n`).
pub fn one_request(
    workload: Workload,
    seed_rows: u64,
    tag: &str,
    n: u64,
    seed: u64,
) -> (Request<Body>, &'static [StatusCode]) {
    let id = i64::try_from(seed_rows + 1 + n).expect("an id");
    let traffic = Traffic::Workload {
        workload,
        seed_rows,
        remove_ids: id - i64::try_from(n).expect("an id")..id + 1,
        tag: tag.to_owned(),
    };
    request(&traffic, n, &mut Rng::new(seed)).expect("a request")
}

/// One keep-alive client connection.
pub(crate) type Sender = hyper::client::conn::http1::SendRequest<Body>;

/// Opens a client connection to `addr`.
pub(crate) async fn connect(addr: SocketAddr) -> Result<Sender, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake with {addr}: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Sends one request on `sender`, which must be ready (`sender.ready().await`), and reads
/// the whole answer; an error means the request went out, in part or whole, and no complete
/// answer came back.
pub(crate) async fn send(
    sender: &mut Sender,
    req: Request<Body>,
) -> Result<hyper::Response<Bytes>, String> {
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?;
    Ok(hyper::Response::from_parts(parts, body.to_bytes()))
}

/// Sends `traffic` to `addr` over `concurrency` keep-alive connections until `max_requests`
/// have been sent or `duration` has passed.
pub async fn run(
    addr: SocketAddr,
    traffic: Arc<Traffic>,
    concurrency: usize,
    max_requests: u64,
    duration: Duration,
    seed: u64,
) -> RunResult {
    let mut senders = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        match connect(addr).await {
            Ok(s) => senders.push(s),
            Err(e) => {
                return RunResult {
                    errors: 1,
                    first_error: Some(e),
                    ..RunResult::default()
                }
            }
        }
    }
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for (w, mut sender) in senders.into_iter().enumerate() {
        let traffic = traffic.clone();
        let issued = issued.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(seed ^ ((w as u64 + 1) << 32));
            let mut out = RunResult::default();
            loop {
                if Instant::now() >= deadline {
                    break;
                }
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= max_requests {
                    break;
                }
                let Some((req, expected)) = request(&traffic, n, &mut rng) else {
                    break;
                };
                if let Err(e) = sender.ready().await {
                    out.errors += 1;
                    out.first_error.get_or_insert_with(|| e.to_string());
                    break;
                }
                let t0 = Instant::now();
                let answer = send(&mut sender, req).await;
                let took = t0.elapsed();
                match answer {
                    Ok(resp) if expected.contains(&resp.status()) => {
                        out.ok += 1;
                        out.latencies_us
                            .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                    }
                    Ok(resp) => {
                        out.errors += 1;
                        out.first_error
                            .get_or_insert_with(|| describe(resp.status(), resp.body()));
                    }
                    Err(e) => {
                        out.errors += 1;
                        out.first_error.get_or_insert(e);
                        break;
                    }
                }
            }
            out
        }));
    }
    let mut total = RunResult::default();
    for t in tasks {
        match t.await {
            Ok(r) => total.merge(r),
            Err(e) => {
                total.errors += 1;
                total.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    total.elapsed = started.elapsed();
    total
}

/// An answer for a report: its status and the start of its body.
pub(crate) fn describe(status: StatusCode, body: &[u8]) -> String {
    format!(
        "{status}: {}",
        String::from_utf8_lossy(&body[..body.len().min(300)])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_sample() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    fn traffic(workload: Workload, seed_rows: u64, tag: &str) -> Traffic {
        Traffic::Workload {
            workload,
            seed_rows,
            remove_ids: 0..0,
            tag: tag.into(),
        }
    }

    #[test]
    fn update_filtered_changes_seeded_rows_only() {
        let t = traffic(Workload::UpdateFiltered, 1000, "g1r0");
        let mut rng = Rng::new(3);
        let (mut low, mut high) = (u64::MAX, 0);
        for n in 0..20_000 {
            let (req, _) = request(&t, n, &mut rng).expect("a request");
            let q = req.uri().query().expect("filters").to_owned();
            let (a, b) = q
                .strip_prefix("id=gte.")
                .and_then(|r| r.split_once("&id=lt."))
                .expect("id=gte.a&id=lt.b");
            let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
            assert_eq!(b - a, FILTERED_ROWS);
            low = low.min(a);
            high = high.max(b - 1);
        }
        assert_eq!((low, high), (1, 1000));
    }

    #[test]
    fn new_e_mails_differ_across_requests_rounds_and_sides() {
        let mut seen = std::collections::HashSet::new();
        for tag in ["g1r0", "h1r0", "g1r1", "g32r0"] {
            for workload in [Workload::BulkCreate, Workload::Upsert, Workload::Create] {
                let t = traffic(workload, 1000, tag);
                let mut rng = Rng::new(1);
                for n in 0..50 {
                    let (req, expected) = request(&t, n, &mut rng).expect("a request");
                    let body = body_text(req);
                    for email in body.split("\"email\":\"").skip(1) {
                        let email = &email[..email.find('"').unwrap()];
                        if email.starts_with("person") {
                            // An upsert's merge into a seeded row.
                            assert_eq!(workload, Workload::Upsert);
                            assert!(n % 2 == 0 && expected == [StatusCode::OK]);
                        } else {
                            assert!(seen.insert(email.to_owned()), "{email} twice");
                        }
                    }
                }
            }
        }
        // 4 runs of 50 bulk creates of 100 rows, 25 upsert inserts and 50 creates.
        assert_eq!(seen.len(), 4 * (50 * BULK_ROWS as usize + 25 + 50));
    }

    fn body_text(req: Request<Body>) -> String {
        let bytes = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(req.into_body().collect())
            .unwrap()
            .to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn remove_stops_at_the_end_of_its_ids() {
        let t = Traffic::Workload {
            workload: Workload::Remove,
            seed_rows: 10,
            remove_ids: 100..102,
            tag: "t".into(),
        };
        let mut rng = Rng::new(1);
        assert!(request(&t, 0, &mut rng).is_some());
        assert!(request(&t, 1, &mut rng).is_some());
        assert!(request(&t, 2, &mut rng).is_none());
    }
}
