//! The measurements: both servers side by side on one backend, in alternating rounds
//! (generated then hand-written, then the other way round), so that a noisy machine slows
//! both alike and the ratio holds.

use crate::load::{self, RunResult, Traffic, Workload};
use crate::server::{Server, Side, Usage};
use crate::setup::{BenchDb, Error};
use crate::stats::{self, median_ci, RoundLatencies};
use expose_runtime::Backend;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long and how hard to measure.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Measured rounds per workload and concurrency; each round runs both sides once.
    pub rounds: u32,
    /// Most rounds of a cell: past [`Settings::rounds`], a cell runs blocks of
    /// [`EXTEND_BY`] more rounds while its throughput or p99 ratio's 95 % interval still
    /// contains the bar, up to this many.
    pub max_rounds: u32,
    /// Length of one side's run in a round.
    pub round: Duration,
    /// Length of each side's unmeasured warm-up run before the rounds.
    pub warmup: Duration,
    /// Most requests in one run (the other bound is [`Settings::round`]).
    pub max_requests: u64,
    /// Concurrent connections to measure at.
    pub concurrency: Vec<usize>,
    /// Workloads to run.
    pub workloads: Vec<Workload>,
    /// Rows seeded before the workloads.
    pub seed_rows: u64,
}

/// Rounds added at a time to a cell whose ratios' intervals still contain the bar.
pub const EXTEND_BY: u32 = 20;

/// Whether a cell runs round `r` (counted from 0): its first [`Settings::rounds`], then,
/// at each block's end, another block of [`EXTEND_BY`] while the measurement cannot yet
/// tell the cell from the bar — its throughput ratio's interval contains 0.95 or its p99
/// ratio's contains 1.1 — up to [`Settings::max_rounds`]. The rule looks at the intervals
/// only, never at which side of the bar the ratio lies, so it adds rounds to a likely pass
/// and a likely miss alike.
fn another_round(s: &Settings, r: u32, rps: &[(f64, f64)], latencies: &[RoundLatencies]) -> bool {
    use crate::report::{BAR_P99, BAR_THROUGHPUT};
    if r < s.rounds {
        return true;
    }
    if r >= s.max_rounds {
        return false;
    }
    if !(r - s.rounds).is_multiple_of(EXTEND_BY) {
        return true;
    }
    let (_, t_lo, t_hi) = throughput_ratio(rps);
    let (_, p_lo, p_hi) = stats::pooled_p99_ratio(latencies);
    let contains = |lo: f64, hi: f64, bar: f64| lo <= bar && bar <= hi;
    contains(t_lo, t_hi, BAR_THROUGHPUT) || contains(p_lo, p_hi, BAR_P99)
}

/// The median of the rounds' throughput ratios (generated / hand-written) and its 95 %
/// confidence interval.
fn throughput_ratio(rounds: &[(f64, f64)]) -> (f64, f64, f64) {
    median_ci(
        rounds
            .iter()
            .map(|(g, h)| if *h > 0.0 { g / h } else { f64::NAN })
            .collect(),
    )
}

/// One side's figures in one cell.
#[derive(Clone, Debug, Default)]
pub struct SideFigures {
    /// Every measured run, merged. A workload's cell keeps the latencies per round instead
    /// ([`Cell::round_latencies`]), so here they are empty; a scaling measurement keeps
    /// them here.
    pub result: RunResult,
    /// Peak RSS during the cell (or since start when it could not be reset), in KiB.
    pub peak_rss_kib: Option<u64>,
    /// CPU time and context switches of the server during the measured runs (`None` when
    /// `/proc` could not tell).
    pub usage: Option<Usage>,
}

impl SideFigures {
    /// Server CPU time per successful request, in microseconds.
    pub fn cpu_us_per_request(&self) -> Option<f64> {
        self.per_request(|u| u.cpu_ns as f64 / 1000.0)
    }

    /// Context switches of the server's threads per successful request.
    pub fn switches_per_request(&self) -> Option<f64> {
        self.per_request(|u| u.switches as f64)
    }

    fn per_request(&self, of: impl Fn(Usage) -> f64) -> Option<f64> {
        let n = self.result.ok;
        self.usage.filter(|_| n > 0).map(|u| of(u) / n as f64)
    }

    /// p50 and p99 latency of the merged runs, in microseconds (scaling measurements; a
    /// workload's cell reads [`Cell::p50_p99`]).
    pub fn p50_p99(&mut self) -> (u32, u32) {
        self.result.latencies_us.sort_unstable();
        let l = &self.result.latencies_us;
        (load::percentile(l, 50.0), load::percentile(l, 99.0))
    }
}

/// One workload at one concurrency, both sides.
#[derive(Clone, Debug)]
pub struct Cell {
    /// The workload.
    pub workload: Workload,
    /// Concurrent connections.
    pub concurrency: usize,
    /// The generated API's figures.
    pub generated: SideFigures,
    /// The hand-written API's figures.
    pub handwritten: SideFigures,
    /// Requests per second of each measured round: (generated, hand-written).
    pub round_rps: Vec<(f64, f64)>,
    /// The latencies of each measured round, each side's sorted.
    pub round_latencies: Vec<RoundLatencies>,
}

impl Cell {
    /// Throughput ratio generated / hand-written: the median of the rounds' ratios, with a
    /// 95 % confidence interval of that median (a round pairs two adjacent runs, so a slow
    /// spell of the machine skews few rounds, where it would skew a ratio of totals).
    pub fn throughput_ratio(&self) -> (f64, f64, f64) {
        throughput_ratio(&self.round_rps)
    }

    /// p50 and p99 latency of one side over all its measured requests, in microseconds
    /// (0 when it has none).
    pub fn p50_p99(&self, side: Side) -> (u32, u32) {
        let runs: Vec<&[u32]> = self
            .round_latencies
            .iter()
            .map(|r| r[side as usize].as_slice())
            .collect();
        let at = |p| stats::pooled_percentile(&runs, p).unwrap_or(0);
        (at(50.0), at(99.0))
    }

    /// p99 ratio generated / hand-written, the one the bar reads: of all the measured
    /// requests of each side, with a bootstrap 95 % interval over the rounds
    /// ([`stats::pooled_p99_ratio`]).
    pub fn p99_ratio(&self) -> (f64, f64, f64) {
        stats::pooled_p99_ratio(&self.round_latencies)
    }

    /// The median of the rounds' ratios of each run's own p99, with its 95 % confidence
    /// interval: paired like the throughput, but a run's p99 is only its few slowest
    /// requests (the 20th slowest of 2 000), so it spreads widely from round to round.
    pub fn round_p99_ratio(&self) -> (f64, f64, f64) {
        median_ci(
            self.round_latencies
                .iter()
                .map(|[g, h]| {
                    let (g, h) = (load::percentile(g, 99.0), load::percentile(h, 99.0));
                    if h > 0 {
                        f64::from(g) / f64::from(h)
                    } else {
                        f64::NAN
                    }
                })
                .collect(),
        )
    }
}

/// Everything measured on one backend.
#[derive(Clone, Debug)]
pub struct BackendResults {
    /// The backend.
    pub backend: Backend,
    /// The server's version.
    pub version: String,
    /// Rows seeded.
    pub seed_rows: u64,
    /// RSS of each side right after start, in KiB.
    pub idle_rss_kib: (Option<u64>, Option<u64>),
    /// Whether the peak RSS could be reset per cell.
    pub peak_reset: bool,
    /// The cells, in the order run.
    pub cells: Vec<Cell>,
    /// Wall time of the backend's whole run.
    pub elapsed: Duration,
}

fn seed_of(parts: &[u64]) -> u64 {
    parts.iter().fold(0xcbf2_9ce4_8422_2325, |h, p| {
        (h ^ p).wrapping_mul(0x100_0000_01b3)
    })
}

/// The two servers of a backend.
pub struct Pair {
    /// The generated API's server.
    pub generated: Server,
    /// The hand-written API's server.
    pub handwritten: Server,
}

impl Pair {
    /// Starts both servers against `url`.
    pub async fn start(url: &str) -> Result<Pair, Error> {
        Ok(Pair {
            generated: Server::start(Side::Generated, url).await?,
            handwritten: Server::start(Side::Handwritten, url).await?,
        })
    }

    /// The server of `side`.
    pub fn get(&self, side: Side) -> &Server {
        match side {
            Side::Generated => &self.generated,
            Side::Handwritten => &self.handwritten,
        }
    }

    /// Stops both.
    pub async fn stop(self) {
        self.generated.stop().await;
        self.handwritten.stop().await;
    }
}

/// The order of the sides in round `r`: alternating, so neither always goes first.
pub fn order(r: u32) -> [Side; 2] {
    if r.is_multiple_of(2) {
        [Side::Generated, Side::Handwritten]
    } else {
        [Side::Handwritten, Side::Generated]
    }
}

/// Runs every workload at every concurrency on one backend.
pub async fn workloads(bdb: &BenchDb, s: &Settings) -> Result<BackendResults, Error> {
    let started = Instant::now();
    eprintln!("[{:?}] seeding {} rows ...", bdb.backend, s.seed_rows);
    bdb.reset_table(s.seed_rows).await?;
    let version = bdb.version().await;
    let pair = Pair::start(&bdb.url).await?;
    let idle_rss_kib = (pair.generated.rss_kib(), pair.handwritten.rss_kib());
    let mut peak_reset = true;
    let mut cells = Vec::new();
    // Requests per second of the writes so far, per side and concurrency: sizes the rows a
    // remove run gets.
    let mut write_rps: Vec<(Side, usize, f64)> = Vec::new();
    for (wi, &workload) in s.workloads.iter().enumerate() {
        for &conc in &s.concurrency {
            let mut figures = [SideFigures::default(), SideFigures::default()];
            for side in [Side::Generated, Side::Handwritten] {
                peak_reset &= pair.get(side).reset_peak();
            }
            let pool_for = |side: Side, time: Duration| -> u64 {
                let rps = write_rps
                    .iter()
                    .filter(|(sd, c, _)| *sd == side && *c == conc)
                    .map(|t| t.2)
                    .fold(0.0, f64::max);
                let rps = if rps > 0.0 { rps } else { 5000.0 };
                ((rps * time.as_secs_f64() * 2.0) as u64 + 100).min(s.max_requests)
            };
            // Warm-up: both sides, unmeasured (connections, statement caches, allocator).
            for side in order(0) {
                let traffic = traffic_for(bdb, workload, s, side, conc, u32::MAX, || {
                    pool_for(side, s.warmup)
                })
                .await?;
                let r = load::run(
                    pair.get(side).addr,
                    traffic,
                    conc,
                    s.max_requests,
                    s.warmup,
                    seed_of(&[wi as u64, conc as u64, 999]),
                )
                .await;
                check(bdb.backend, workload, side, &r)?;
            }
            let mut round_rps = Vec::new();
            let mut round_latencies = Vec::new();
            let mut r = 0;
            while another_round(s, r, &round_rps, &round_latencies) {
                let mut rps = [0.0; 2];
                let mut latencies: RoundLatencies = Default::default();
                for side in order(r) {
                    let before = pair.get(side).usage();
                    let traffic =
                        traffic_for(bdb, workload, s, side, conc, r, || pool_for(side, s.round))
                            .await?;
                    let mut result = load::run(
                        pair.get(side).addr,
                        traffic,
                        conc,
                        s.max_requests,
                        s.round,
                        seed_of(&[wi as u64, conc as u64, r as u64]),
                    )
                    .await;
                    check(bdb.backend, workload, side, &result)?;
                    let f = &mut figures[side as usize];
                    f.usage = match (before, pair.get(side).usage(), r) {
                        (Some(a), Some(b), 0) => Some(b.since(a)),
                        (Some(a), Some(b), _) => f.usage.map(|u| u.plus(b.since(a))),
                        _ => None,
                    };
                    rps[side as usize] = result.rps();
                    let mut sorted = std::mem::take(&mut result.latencies_us);
                    sorted.sort_unstable();
                    latencies[side as usize] = sorted;
                    figures[side as usize].result.merge(result);
                }
                round_rps.push((rps[0], rps[1]));
                round_latencies.push(latencies);
                r += 1;
            }
            for side in [Side::Generated, Side::Handwritten] {
                figures[side as usize].peak_rss_kib = pair.get(side).peak_rss_kib();
                if matches!(workload, Workload::Create | Workload::Update) {
                    write_rps.push((side, conc, figures[side as usize].result.rps()));
                }
            }
            let [generated, handwritten] = figures;
            let cell = Cell {
                workload,
                concurrency: conc,
                generated,
                handwritten,
                round_rps,
                round_latencies,
            };
            let (ratio, lo, hi) = cell.throughput_ratio();
            eprintln!(
                "[{:?}] {:<14} c={:<3} generated {:>8.0} req/s, hand-written {:>8.0} req/s, \
                 ratio {ratio:.2} ({lo:.2}-{hi:.2}), {r} rounds",
                bdb.backend,
                workload.name(),
                conc,
                cell.generated.result.rps(),
                cell.handwritten.result.rps(),
            );
            cells.push(cell);
        }
    }
    pair.stop().await;
    Ok(BackendResults {
        backend: bdb.backend,
        version,
        seed_rows: s.seed_rows,
        idle_rss_kib,
        peak_reset,
        cells,
        elapsed: started.elapsed(),
    })
}

/// The traffic of one run; for a remove run, first inserts the rows it deletes.
async fn traffic_for(
    bdb: &BenchDb,
    workload: Workload,
    s: &Settings,
    side: Side,
    conc: usize,
    round: u32,
    pool_size: impl FnOnce() -> u64,
) -> Result<Arc<Traffic>, Error> {
    let remove_ids = if workload == Workload::Remove {
        bdb.insert_pool(pool_size()).await?
    } else {
        0..0
    };
    let letter = match side {
        Side::Generated => 'g',
        Side::Handwritten => 'h',
    };
    Ok(Arc::new(Traffic::Workload {
        workload,
        seed_rows: s.seed_rows,
        remove_ids,
        tag: format!("{letter}{conc}r{round}"),
    }))
}

/// Fails the benchmark when a run saw errors: a figure over failing requests means nothing.
fn check(backend: Backend, workload: Workload, side: Side, r: &RunResult) -> Result<(), Error> {
    if r.errors > 0 {
        return Err(format!(
            "[{backend:?}] {} on the {} server: {} failed requests, first: {}",
            workload.name(),
            side.name(),
            r.errors,
            r.first_error.as_deref().unwrap_or("?")
        )
        .into());
    }
    if r.ok == 0 {
        return Err(format!(
            "[{backend:?}] {} on the {} server: no request completed",
            workload.name(),
            side.name()
        )
        .into());
    }
    Ok(())
}

/// One paging shape of the scaling measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// `?limit=100`.
    FirstPage,
    /// `?limit=100&offset=rows-100`: the last page by offset.
    DeepOffset,
    /// `?id=gt.(rows-100)&order=id&limit=100`: the same page by keyset.
    Keyset,
}

impl Paging {
    /// Every shape.
    pub const ALL: [Paging; 3] = [Paging::FirstPage, Paging::DeepOffset, Paging::Keyset];

    /// The request's path and query for a table of `rows` rows.
    pub fn path(self, rows: u64) -> String {
        let deep = rows.saturating_sub(100);
        match self {
            Paging::FirstPage => "/people?limit=100".into(),
            Paging::DeepOffset => format!("/people?limit=100&offset={deep}"),
            Paging::Keyset => format!("/people?id=gt.{deep}&order=id&limit=100"),
        }
    }

    /// The name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Paging::FirstPage => "first page",
            Paging::DeepOffset => "deep offset",
            Paging::Keyset => "keyset",
        }
    }
}

/// The counts of the scaling measurement: none, `Prefer: count=exact`, `count=planned`.
pub const SCALING_COUNTS: [Option<&str>; 3] = [None, Some("count=exact"), Some("count=planned")];

/// One scaling cell: a table size, a paging shape, with or without a count.
#[derive(Clone, Debug)]
pub struct ScalingCell {
    /// Rows in the table.
    pub rows: u64,
    /// The paging shape.
    pub paging: Paging,
    /// The `Prefer` header sent (`count=exact`, `count=planned`), if any.
    pub count: Option<&'static str>,
    /// The request sent.
    pub path: String,
    /// The generated API's figures.
    pub generated: SideFigures,
    /// The hand-written API's figures.
    pub handwritten: SideFigures,
}

/// The scaling measurement of one backend.
#[derive(Clone, Debug)]
pub struct ScalingResults {
    /// The backend.
    pub backend: Backend,
    /// The server's version.
    pub version: String,
    /// The cells.
    pub cells: Vec<ScalingCell>,
    /// Seconds spent seeding each size.
    pub seeding: Vec<(u64, Duration)>,
    /// Wall time of the backend's whole run.
    pub elapsed: Duration,
}

/// List latency against table size, at concurrency 1, for every paging shape without a
/// count, with `count=exact` and with `count=planned`.
pub async fn scaling(
    bdb: &BenchDb,
    sizes: &[u64],
    rounds: u32,
    round: Duration,
) -> Result<ScalingResults, Error> {
    let started = Instant::now();
    let mut cells = Vec::new();
    let mut seeding = Vec::new();
    let mut version = String::new();
    for &rows in sizes {
        eprintln!("[{:?}] scaling: seeding {rows} rows ...", bdb.backend);
        let t = Instant::now();
        bdb.reset_table(rows).await?;
        seeding.push((rows, t.elapsed()));
        if version.is_empty() {
            version = bdb.version().await;
        }
        // Fresh servers per size: no statement cached against the dropped table.
        let pair = Pair::start(&bdb.url).await?;
        for paging in Paging::ALL {
            for count in SCALING_COUNTS {
                let path = paging.path(rows);
                let traffic = Arc::new(Traffic::Get {
                    path: path.clone(),
                    count,
                });
                let mut figures = [SideFigures::default(), SideFigures::default()];
                for side in order(0) {
                    let r = load::run(pair.get(side).addr, traffic.clone(), 1, 1, round, 1).await;
                    check(bdb.backend, Workload::List, side, &r)?;
                }
                for r in 0..rounds {
                    for side in order(r) {
                        let result =
                            load::run(pair.get(side).addr, traffic.clone(), 1, u64::MAX, round, 1)
                                .await;
                        check(bdb.backend, Workload::List, side, &result)?;
                        figures[side as usize].result.merge(result);
                    }
                }
                let [generated, handwritten] = figures;
                eprintln!(
                    "[{:?}] {rows:>8} rows {:<12} {:<13} generated p50 {:>7} us, hand-written p50 {:>7} us",
                    bdb.backend,
                    paging.name(),
                    count.unwrap_or("no count"),
                    generated.clone().p50_p99().0,
                    handwritten.clone().p50_p99().0,
                );
                cells.push(ScalingCell {
                    rows,
                    paging,
                    count,
                    path,
                    generated,
                    handwritten,
                });
            }
        }
        pair.stop().await;
    }
    Ok(ScalingResults {
        backend: bdb.backend,
        version,
        cells,
        seeding,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(rounds: u32, max_rounds: u32) -> Settings {
        Settings {
            rounds,
            max_rounds,
            round: Duration::from_millis(1),
            warmup: Duration::from_millis(1),
            max_requests: 1,
            concurrency: vec![1],
            workloads: vec![Workload::Retrieve],
            seed_rows: 1,
        }
    }

    /// Each round's requests per second and latencies, of both sides.
    type Rounds = (Vec<(f64, f64)>, Vec<RoundLatencies>);

    /// A round's latencies: 1..=100 µs on the hand-written side, `factor` times that on the
    /// generated one.
    fn latencies(factor: f64) -> RoundLatencies {
        let hand: Vec<u32> = (1..=100).collect();
        let generated = hand
            .iter()
            .map(|&l| (f64::from(l) * factor) as u32)
            .collect();
        [generated, hand]
    }

    /// `n` rounds whose throughput ratios spread evenly over `lo..hi`, with equal latencies.
    fn rounds(n: u32, lo: f64, hi: f64) -> Rounds {
        let rps = (0..n)
            .map(|i| (lo + (hi - lo) * f64::from(i) / f64::from(n - 1), 1.0))
            .collect();
        (rps, vec![latencies(1.0); n as usize])
    }

    #[test]
    fn a_cell_runs_its_rounds_then_blocks_while_an_interval_contains_the_bar() {
        let s = settings(40, 80);
        // The first rounds run whatever they show.
        let (rps, p99) = rounds(30, 0.5, 0.6);
        assert!(another_round(&s, 30, &rps, &p99));
        // Clear of the bar on either side: no more rounds, a miss as well as a pass.
        for (lo, hi) in [(1.0, 1.1), (0.8, 0.9)] {
            let (rps, p99) = rounds(40, lo, hi);
            assert!(!another_round(&s, 40, &rps, &p99), "{lo}..{hi}");
        }
        // An interval that contains 0.95, whichever side the median is on: a block more.
        for (lo, hi) in [(0.90, 1.05), (0.85, 1.00)] {
            let (rps, p99) = rounds(40, lo, hi);
            assert!(another_round(&s, 40, &rps, &p99), "{lo}..{hi}");
            // Within the block the rounds go on without a look ...
            let (rps, p99) = rounds(41, lo, hi);
            assert!(another_round(&s, 41, &rps, &p99));
            // ... and they stop at the most rounds.
            let (rps, p99) = rounds(80, lo, hi);
            assert!(!another_round(&s, 80, &rps, &p99));
        }
        // A p99 ratio's interval that contains 1.1 adds rounds too.
        let (rps, _) = rounds(40, 1.0, 1.1);
        // (Four rounds in forty with a slower generated side: whether the run's p99 is
        // past the bar depends on how many of them a resample draws.)
        let p99: Vec<RoundLatencies> = (0..40)
            .map(|i| latencies(if i % 10 == 0 { 1.3 } else { 1.0 }))
            .collect();
        assert!(another_round(&s, 40, &rps, &p99));
        // One clear of it does not.
        assert!(!another_round(&s, 40, &rps, &vec![latencies(1.3); 40]));
    }
}
