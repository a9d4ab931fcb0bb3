//! `--soak`: the generated server under steady mixed load for a while on each backend,
//! watched from outside. Every interval the load pauses while the requests in flight finish
//! (a write lock that every request holds a read lock of), so that the figures of a sample
//! are exact: the server's memory and open files, the answers by status, and the row
//! invariant — the rows in the table are the seeded ones plus the creates the server
//! acknowledged (201) minus the removes it acknowledged (204). Each create is followed on
//! its connection by the remove of the row it made, so the table keeps its size and memory
//! has no reason to grow. See `bench/SOAK.md`.

use crate::load::{self, Body, Rng, Sender};
use crate::server::{Heap, Memory, Server, Side};
use crate::setup::{BenchDb, Error};
use hyper::{Request, StatusCode};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// The schema (PostgreSQL), database (MySQL) or file name (SQLite) a soak owns: not the
/// benchmark's, so that both can run at once.
pub const SOAK_SCHEMA: &str = "expose_soak";

/// How long and how hard to soak.
#[derive(Clone, Debug)]
pub struct SoakSettings {
    /// How long to load each backend.
    pub duration: Duration,
    /// Time between samples.
    pub interval: Duration,
    /// Concurrent client connections (closed loop, like the benchmark's).
    pub concurrency: usize,
    /// Rows seeded before the load.
    pub seed_rows: u64,
}

/// Longest a client waits for an answer before it counts the request as unanswered and
/// opens a new connection (the server's own request timeout is shorter).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Most unexpected answers listed per backend (all are counted).
const MAX_LISTED: usize = 20;

/// What a soak client sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    /// `GET /people/{id}` of a seeded row.
    Retrieve,
    /// `GET /people?limit=100`.
    List,
    /// `GET /people?age=gte.30&is_admin=eq.false&order=age.desc&limit=100` with
    /// `Prefer: count=exact`.
    ListFiltered,
    /// `PATCH /people/{id}` of a seeded row.
    Update,
    /// `POST /people`.
    Create,
    /// `DELETE /people/{id}` of the row the connection's last create made.
    Remove,
}

impl Op {
    /// The name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Op::Retrieve => "retrieve",
            Op::List => "list",
            Op::ListFiltered => "list-filtered",
            Op::Update => "update",
            Op::Create => "create",
            Op::Remove => "remove",
        }
    }
}

/// The mix, in percent of the requests a client chooses (a remove follows each create, so
/// of all requests about 13 % are creates and 13 % removes).
pub const MIX: [(Op, u64); 5] = [
    (Op::Retrieve, 55),
    (Op::List, 8),
    (Op::ListFiltered, 7),
    (Op::Update, 15),
    (Op::Create, 15),
];

/// The operation for a draw in `0..100`.
fn op_of(draw: u64) -> Op {
    let mut acc = 0;
    for (op, share) in MIX {
        acc += share;
        if draw < acc {
            return op;
        }
    }
    Op::Retrieve
}

/// The answers so far.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Answers by operation and status.
    pub by_op: BTreeMap<(Op, u16), u64>,
    /// Requests sent that got no complete answer (connection closed or reset, timeout).
    pub unanswered: u64,
    /// Creates acknowledged with 201.
    pub created: u64,
    /// Removes acknowledged with 204.
    pub removed: u64,
    /// Answers with a status the operation should not give (5xx included).
    pub unexpected: u64,
    /// Answers with a 5xx status.
    pub server_errors: u64,
    /// The first unexpected answers and unanswered requests (20 at most).
    pub listed: Vec<String>,
}

impl Tally {
    /// Answers by status, over every operation.
    pub fn by_status(&self) -> BTreeMap<u16, u64> {
        let mut m = BTreeMap::new();
        for (&(_, status), &n) in &self.by_op {
            *m.entry(status).or_default() += n;
        }
        m
    }

    /// Every answer received.
    pub fn answers(&self) -> u64 {
        self.by_op.values().sum()
    }

    fn list(&mut self, at: Duration, what: String) {
        if self.listed.len() < MAX_LISTED {
            self.listed
                .push(format!("{:>6.1} s  {what}", at.as_secs_f64()));
        }
    }
}

/// One look at the server.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Time since the load started.
    pub at: Duration,
    /// The server's memory (`/proc/<pid>/status`).
    pub memory: Option<Memory>,
    /// The server's open file descriptors.
    pub fds: Option<usize>,
    /// The server's allocators, as it reports them.
    pub heap: Option<Heap>,
    /// Rows in the table (counted while no request was in flight).
    pub rows: Option<i64>,
    /// Size of SQLite's write-ahead log file, in bytes.
    pub wal_bytes: Option<u64>,
    /// The answers so far.
    pub tally: Tally,
}

/// A backend's soak.
#[derive(Clone, Debug)]
pub struct SoakResult {
    /// Which backend.
    pub backend: expose_runtime::Backend,
    /// The database server's version.
    pub version: String,
    /// Rows seeded.
    pub seed_rows: u64,
    /// Every sample, the first before the load and the last after it.
    pub samples: Vec<Sample>,
}

impl SoakResult {
    /// The last sample.
    pub fn last(&self) -> &Sample {
        self.samples.last().expect("a soak has samples")
    }

    /// Rows the table should hold by the last sample's tally.
    pub fn expected_rows(&self) -> i64 {
        let t = &self.last().tally;
        self.seed_rows as i64 + t.created as i64 - t.removed as i64
    }

    /// Whether the table holds the rows the acknowledged writes say, at every sample.
    pub fn invariant_held(&self) -> bool {
        self.samples.iter().all(|s| {
            s.rows == Some(self.seed_rows as i64 + s.tally.created as i64 - s.tally.removed as i64)
        })
    }

    /// Whether every request got an expected answer and the invariant held.
    pub fn clean(&self) -> bool {
        let t = &self.last().tally;
        t.unexpected == 0 && t.unanswered == 0 && self.invariant_held()
    }

    /// RSS growth in MiB per minute over the first and the second half of the soak after its
    /// first interval (the first interval is warm-up: the pool opens its connections, the
    /// threads start, the caches fill).
    pub fn rss_slopes(&self) -> (Option<f64>, Option<f64>) {
        let from = self.samples.get(1).map_or(Duration::ZERO, |s| s.at);
        let end = self.last().at;
        let mid = from + end.saturating_sub(from) / 2;
        (self.rss_slope(from, mid), self.rss_slope(mid, end))
    }

    /// RSS growth in MiB per minute over the samples taken in `[from, to)` of the load (a
    /// least-squares slope; `None` with fewer than three samples).
    pub fn rss_slope(&self, from: Duration, to: Duration) -> Option<f64> {
        let pts: Vec<(f64, f64)> = self
            .samples
            .iter()
            .filter(|s| s.at >= from && s.at <= to)
            .filter_map(|s| Some((s.at.as_secs_f64() / 60.0, s.memory?.rss_kib as f64 / 1024.0)))
            .collect();
        slope(&pts)
    }
}

/// The least-squares slope of `y` over `x` (`None` with fewer than three points).
fn slope(pts: &[(f64, f64)]) -> Option<f64> {
    if pts.len() < 3 {
        return None;
    }
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// What the clients share.
struct Shared {
    /// Held (read) by every request in flight; the sampler takes it (write) so that no
    /// request is in flight while it counts.
    gate: RwLock<()>,
    tally: Mutex<Tally>,
    /// Numbers the creates' e-mail addresses.
    next: std::sync::atomic::AtomicU64,
    started: Instant,
    deadline: Instant,
    seed_rows: u64,
    tag: String,
}

/// Soaks the generated server on one backend: seeds the table, starts the server, loads it
/// for `s.duration`, samples it every `s.interval` (printing a line each time), and stops it.
pub async fn run(bdb: &BenchDb, s: &SoakSettings) -> Result<SoakResult, Error> {
    let name = format!("{:?}", bdb.backend).to_lowercase();
    eprintln!("[{name}] seeding {} rows ...", s.seed_rows);
    bdb.reset_table(s.seed_rows).await?;
    let version = bdb.version().await;
    let mut server = Server::start(Side::Generated, &bdb.url).await?;
    println!(
        "[{name}] {version}; generated server pid {}, {} connections, {} s, sample every {} s",
        server.pid().unwrap_or(0),
        s.concurrency,
        s.duration.as_secs(),
        s.interval.as_secs()
    );
    let started = Instant::now();
    let shared = Arc::new(Shared {
        gate: RwLock::new(()),
        tally: Mutex::new(Tally::default()),
        next: 0.into(),
        started,
        deadline: started + s.duration,
        seed_rows: s.seed_rows,
        tag: format!("soak{}", std::process::id()),
    });
    let mut samples = vec![sample(bdb, &mut server, &shared).await];
    print_sample(&name, &samples[0], s.seed_rows);
    let clients: Vec<_> = (0..s.concurrency)
        .map(|c| tokio::spawn(client(server.addr, shared.clone(), c as u64)))
        .collect();
    let mut next = started + s.interval;
    while next < shared.deadline {
        tokio::time::sleep_until(next.into()).await;
        let gate = shared.gate.write().await;
        let sm = sample(bdb, &mut server, &shared).await;
        drop(gate);
        print_sample(&name, &sm, s.seed_rows);
        samples.push(sm);
        next += s.interval;
    }
    for c in clients {
        c.await?;
    }
    let last = sample(bdb, &mut server, &shared).await;
    print_sample(&name, &last, s.seed_rows);
    samples.push(last);
    server.stop().await;
    let r = SoakResult {
        backend: bdb.backend,
        version,
        seed_rows: s.seed_rows,
        samples,
    };
    print!("{}", summary(&name, &r));
    Ok(r)
}

async fn sample(bdb: &BenchDb, server: &mut Server, shared: &Shared) -> Sample {
    let rows = bdb.db.fetch_i64("SELECT COUNT(*) FROM people").await.ok();
    let wal_bytes = bdb.sqlite_path().and_then(|p| {
        let mut wal = p.as_os_str().to_owned();
        wal.push("-wal");
        std::fs::metadata(wal).ok().map(|m| m.len())
    });
    Sample {
        at: shared.started.elapsed(),
        memory: server.memory(),
        fds: server.open_fds(),
        heap: server.heap().await,
        rows,
        wal_bytes,
        tally: shared.tally.lock().expect("not poisoned").clone(),
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn kib_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// `200:123 201:4` — the answers by status.
fn statuses(t: &Tally) -> String {
    let mut out = t
        .by_status()
        .iter()
        .map(|(s, n)| format!("{s}:{n}"))
        .collect::<Vec<_>>()
        .join(" ");
    if t.unanswered > 0 {
        let _ = write!(out, " unanswered:{}", t.unanswered);
    }
    out
}

fn print_sample(name: &str, s: &Sample, seed_rows: u64) {
    let mut line = format!("[{name}] {:>5.0} s", s.at.as_secs_f64());
    match s.memory {
        Some(m) => {
            let _ = write!(
                line,
                "  rss {:>6.1} MiB (anon {:.1}, file {:.1}, shmem {:.1})  threads {}",
                kib_mib(m.rss_kib),
                kib_mib(m.anon_kib),
                kib_mib(m.file_kib),
                kib_mib(m.shmem_kib),
                m.threads
            );
        }
        None => line.push_str("  rss ?"),
    }
    let _ = write!(
        line,
        "  fds {}",
        s.fds.map_or("?".to_owned(), |n| n.to_string())
    );
    if let Some(h) = s.heap {
        if h.sqlite_peak > 0 {
            let _ = write!(line, "  sqlite {:.1} MiB", mib(h.sqlite_used));
        }
        match (h.malloc_used, h.malloc_free) {
            // What malloc has handed out besides SQLite's heap (SQLite allocates through
            // malloc too): the server's own, Rust-side, memory.
            (Some(u), Some(f)) if h.sqlite_peak > 0 => {
                let _ = write!(
                    line,
                    "  malloc {:.1} used ({:.2} not SQLite's) {:.1} free",
                    mib(u),
                    mib(u.saturating_sub(h.sqlite_used)),
                    mib(f)
                );
            }
            // SQLite keeps no count (its memory statistics are off, as `Db::connect`
            // leaves them): malloc's figures hold SQLite's heap too.
            (Some(u), Some(f)) => {
                let _ = write!(line, "  malloc {:.1} used {:.1} free", mib(u), mib(f));
            }
            _ => {}
        }
    }
    if let Some(w) = s.wal_bytes {
        let _ = write!(line, "  wal {:.1} MiB", mib(w));
    }
    let t = &s.tally;
    let expected = seed_rows as i64 + t.created as i64 - t.removed as i64;
    let _ = write!(
        line,
        "  | {} answers: {}  | rows {} = {seed_rows} + {} - {} {}",
        t.answers(),
        statuses(t),
        s.rows.map_or("?".to_owned(), |r| r.to_string()),
        t.created,
        t.removed,
        if s.rows == Some(expected) {
            "ok"
        } else {
            "BROKEN"
        }
    );
    println!("{line}");
}

fn fmt_slope(v: Option<f64>) -> String {
    v.map_or("?".to_owned(), |v| format!("{v:+.2}"))
}

/// The end-of-backend summary.
fn summary(name: &str, r: &SoakResult) -> String {
    let mut out = String::new();
    let first = &r.samples[0];
    let last = r.last();
    let t = &last.tally;
    let rss = |s: &Sample| s.memory.map_or(f64::NAN, |m| kib_mib(m.rss_kib));
    let max_rss = r
        .samples
        .iter()
        .filter_map(|s| s.memory)
        .map(|m| m.rss_kib)
        .max()
        .map_or(f64::NAN, kib_mib);
    let fds: Vec<usize> = r.samples.iter().filter_map(|s| s.fds).collect();
    let (first_half, second_half) = r.rss_slopes();
    let _ = writeln!(
        out,
        "[{name}] summary: {} answers in {:.0} s ({:.0}/s); {}",
        t.answers(),
        last.at.as_secs_f64(),
        t.answers() as f64 / last.at.as_secs_f64().max(1e-9),
        statuses(t)
    );
    let _ = writeln!(
        out,
        "[{name}]   rss {:.1} MiB before the load, {:.1} after the first interval, {:.1} at the end \
         (max {:.1}); after the first interval it grew {} MiB/min over the first half, {} over \
         the second (least-squares slopes)",
        rss(first),
        r.samples.get(1).map_or(f64::NAN, rss),
        rss(last),
        max_rss,
        fmt_slope(first_half),
        fmt_slope(second_half),
    );
    let _ = writeln!(
        out,
        "[{name}]   open fds {} before, {}..{} during, {} at the end",
        first.fds.map_or("?".into(), |n| n.to_string()),
        fds.iter().min().map_or("?".into(), |n| n.to_string()),
        fds.iter().max().map_or("?".into(), |n| n.to_string()),
        last.fds.map_or("?".into(), |n| n.to_string()),
    );
    let _ = writeln!(
        out,
        "[{name}]   rows {} = {} seeded + {} created - {} removed: {}; invariant {} at all {} samples",
        last.rows.map_or("?".into(), |n| n.to_string()),
        r.seed_rows,
        t.created,
        t.removed,
        r.expected_rows(),
        if r.invariant_held() { "held" } else { "BROKEN" },
        r.samples.len()
    );
    let _ = writeln!(
        out,
        "[{name}]   5xx: {}; other unexpected answers: {}; unanswered: {}",
        t.server_errors,
        t.unexpected - t.server_errors,
        t.unanswered
    );
    for l in &t.listed {
        let _ = writeln!(out, "[{name}]     {l}");
    }
    let by_op = t
        .by_op
        .iter()
        .map(|(&(op, status), n)| format!("{} {status}:{n}", op.name()))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(out, "[{name}]   by operation: {by_op}");
    out
}

/// The Markdown table of every backend's soak, for `SOAK.md`.
pub fn markdown(results: &[SoakResult]) -> String {
    let mut out = String::from(
        "| backend | RSS before → 1st sample → end (max) | growth 1st / 2nd half after the 1st sample | open fds | answers | 5xx | invariant |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in results {
        let rss = |s: &Sample| s.memory.map_or(f64::NAN, |m| kib_mib(m.rss_kib));
        let first = &r.samples[0];
        let last = r.last();
        let (first_half, second_half) = r.rss_slopes();
        let max = r
            .samples
            .iter()
            .filter_map(|s| s.memory)
            .map(|m| m.rss_kib)
            .max()
            .map_or(f64::NAN, kib_mib);
        let fds: Vec<usize> = r.samples.iter().filter_map(|s| s.fds).collect();
        let _ = writeln!(
            out,
            "| {:?} | {:.1} → {:.1} → {:.1} MiB ({:.1}) | {} / {} MiB/min | {}..{} | {} | {} | {} ({} rows) |",
            r.backend,
            rss(first),
            r.samples.get(1).map_or(f64::NAN, rss),
            rss(last),
            max,
            fmt_slope(first_half),
            fmt_slope(second_half),
            fds.iter().min().copied().unwrap_or(0),
            fds.iter().max().copied().unwrap_or(0),
            statuses(&last.tally),
            last.tally.server_errors,
            if r.invariant_held() { "held" } else { "BROKEN" },
            last.rows.map_or("?".into(), |n| n.to_string()),
        );
    }
    out
}

/// The next request of a client: the remove of the row its last create made, if any, or a
/// draw from [`MIX`].
fn next_request(
    shared: &Shared,
    rng: &mut Rng,
    pending_remove: Option<i64>,
) -> (Op, Request<Body>, &'static [StatusCode]) {
    if let Some(id) = pending_remove {
        let (req, expected) = load::remove(id);
        return (Op::Remove, req, expected);
    }
    let op = op_of(rng.below(100));
    let id = 1 + rng.below(shared.seed_rows);
    let n = shared
        .next
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (req, expected) = match op {
        Op::Retrieve => load::get(format!("/people/{id}"), None),
        Op::List => load::get("/people?limit=100".into(), None),
        Op::ListFiltered => load::get(
            "/people?age=gte.30&is_admin=eq.false&order=age.desc&limit=100".into(),
            Some("count=exact"),
        ),
        Op::Update => load::update(id, n, &shared.tag),
        Op::Create => load::create(n, &shared.tag),
        Op::Remove => unreachable!("not in the mix: a remove follows a create"),
    };
    (op, req, expected)
}

/// The id in a 201's `Location: /people/{id}`.
fn created_id(resp: &hyper::Response<bytes::Bytes>) -> Option<i64> {
    resp.headers()
        .get(hyper::header::LOCATION)?
        .to_str()
        .ok()?
        .rsplit('/')
        .next()?
        .parse()
        .ok()
}

/// Opens a connection, retrying until the deadline.
async fn connect(addr: SocketAddr, deadline: Instant) -> Option<Sender> {
    loop {
        if let Ok(s) = load::connect(addr).await {
            return Some(s);
        }
        if Instant::now() + Duration::from_millis(200) >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One client connection's closed loop until the deadline. A request that gets no answer
/// is counted, and the client goes on over a new connection.
async fn client(addr: SocketAddr, shared: Arc<Shared>, c: u64) {
    let mut rng = Rng::new(0x50A4 ^ ((c + 1) << 32));
    let mut sender = None;
    let mut pending_remove = None;
    while Instant::now() < shared.deadline {
        if sender.is_none() {
            sender = connect(addr, shared.deadline).await;
        }
        let Some(s) = sender.as_mut() else {
            return;
        };
        if s.ready().await.is_err() {
            // Closed by the server between two requests: nothing was sent.
            sender = None;
            continue;
        }
        let (op, req, expected) = next_request(&shared, &mut rng, pending_remove);
        let what = format!("{} {}", req.method(), req.uri());
        let gate = shared.gate.read().await;
        let answer = tokio::time::timeout(ANSWER_TIMEOUT, load::send(s, req)).await;
        let at = shared.started.elapsed();
        let mut t = shared.tally.lock().expect("not poisoned");
        match answer {
            Ok(Ok(resp)) => {
                let status = resp.status();
                *t.by_op.entry((op, status.as_u16())).or_default() += 1;
                if !expected.contains(&status) {
                    t.unexpected += 1;
                    if status.is_server_error() {
                        t.server_errors += 1;
                    }
                    t.list(
                        at,
                        format!("{what} → {}", load::describe(status, resp.body())),
                    );
                }
                match (op, status) {
                    (Op::Create, StatusCode::CREATED) => {
                        t.created += 1;
                        pending_remove = created_id(&resp);
                        if pending_remove.is_none() {
                            t.list(at, format!("{what} → 201 without a Location"));
                        }
                    }
                    (Op::Remove, StatusCode::NO_CONTENT) => {
                        t.removed += 1;
                        pending_remove = None;
                    }
                    // Gone already (the invariant will tell how): nothing left to remove.
                    (Op::Remove, StatusCode::NOT_FOUND) => pending_remove = None,
                    // Any other answer to a remove: try it again.
                    _ => {}
                }
            }
            Ok(Err(e)) => {
                t.unanswered += 1;
                t.list(at, format!("{what} → no answer: {e}"));
                sender = None;
            }
            Err(_) => {
                t.unanswered += 1;
                t.list(
                    at,
                    format!("{what} → no answer in {} s", ANSWER_TIMEOUT.as_secs()),
                );
                sender = None;
            }
        }
        drop(t);
        drop(gate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_covers_every_draw() {
        assert_eq!(MIX.iter().map(|m| m.1).sum::<u64>(), 100);
        assert_eq!(op_of(0), Op::Retrieve);
        assert_eq!(op_of(54), Op::Retrieve);
        assert_eq!(op_of(55), Op::List);
        assert_eq!(op_of(99), Op::Create);
    }

    #[test]
    fn rss_slopes_leave_out_the_first_interval() {
        // 10 MiB before the load, 28 after 10 s, then +1 MiB per minute, then flat.
        let rss = [10.0, 28.0, 28.5, 29.0, 29.0, 29.0];
        let samples = rss
            .iter()
            .enumerate()
            .map(|(i, mib)| Sample {
                at: Duration::from_secs(30 * i as u64),
                memory: Some(Memory {
                    rss_kib: (mib * 1024.0) as u64,
                    ..Memory::default()
                }),
                fds: None,
                heap: None,
                rows: Some(10),
                wal_bytes: None,
                tally: Tally::default(),
            })
            .collect();
        let r = SoakResult {
            backend: expose_runtime::Backend::Sqlite,
            version: String::new(),
            seed_rows: 10,
            samples,
        };
        let (first, second) = r.rss_slopes();
        assert!((first.unwrap() - 1.0).abs() < 1e-9, "{first:?}");
        assert!(second.unwrap().abs() < 1e-9, "{second:?}");
        assert!(r.invariant_held() && r.clean());
    }

    #[test]
    fn slopes_of_known_lines() {
        assert_eq!(slope(&[(0.0, 1.0), (1.0, 3.0)]), None);
        let s = slope(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]).unwrap();
        assert!((s - 2.0).abs() < 1e-12);
        let flat = slope(&[(0.0, 4.0), (1.0, 4.0), (2.0, 4.0), (3.0, 4.0)]).unwrap();
        assert!(flat.abs() < 1e-12);
    }
}
