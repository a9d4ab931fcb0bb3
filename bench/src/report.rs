//! The Markdown reports: `RESULTS.md` (workloads) and `SCALING.md` (list latency against
//! table size), each headed by the machine they were measured on.

use crate::run::{BackendResults, ScalingResults, Settings, SideFigures};
use crate::server::Side;
use expose_runtime::Backend;
use std::fmt::Write as _;

/// Throughput the generated API must reach, as a share of the hand-written one.
pub const BAR_THROUGHPUT: f64 = 0.95;
/// p99 latency the generated API may not exceed, as a multiple of the hand-written one.
pub const BAR_P99: f64 = 1.10;

/// What the figures were taken on.
#[derive(Clone, Debug)]
pub struct Machine {
    /// `nproc`.
    pub cpus: usize,
    /// The CPU model from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// The load average when the run started (`/proc/loadavg`).
    pub loadavg: String,
    /// UTC time of the run.
    pub date: String,
    /// `git rev-parse HEAD` of the workspace, and whether the tree had changes.
    pub commit: String,
    /// `rustc --version`.
    pub rustc: String,
}

fn command_output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(cmd)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl Machine {
    /// Reads the machine's facts.
    pub fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
        let commit = match command_output("git", &["rev-parse", "--short=12", "HEAD"]) {
            Some(c) => {
                let dirty =
                    command_output("git", &["status", "--porcelain", "--untracked-files=no"])
                        .is_some_and(|s| !s.is_empty());
                if dirty {
                    format!("{c} (with uncommitted changes in the tree)")
                } else {
                    c
                }
            }
            None => "unknown".to_owned(),
        };
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model,
            loadavg: std::fs::read_to_string("/proc/loadavg")
                .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            commit,
            rustc: command_output("rustc", &["--version"]).unwrap_or_else(|| "unknown".into()),
        }
    }

    fn markdown(&self, out: &mut String) {
        let _ = writeln!(out, "| | |\n|---|---|");
        let _ = writeln!(out, "| date | {} |", self.date);
        let _ = writeln!(out, "| commit | {} |", self.commit);
        let _ = writeln!(out, "| CPUs (`nproc`) | {} |", self.cpus);
        let _ = writeln!(out, "| CPU | {} |", self.cpu_model);
        let _ = writeln!(out, "| load average at start | {} |", self.loadavg);
        let _ = writeln!(out, "| compiler | {} |", self.rustc);
    }
}

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
        Backend::MySql => "MySQL/MariaDB",
    }
}

fn ms(us: u32) -> String {
    if us >= 10_000 {
        format!("{:.0} ms", f64::from(us) / 1000.0)
    } else {
        format!("{:.2} ms", f64::from(us) / 1000.0)
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "?".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

/// The workloads report.
pub fn results_markdown(
    machine: &Machine,
    settings: &Settings,
    mode: &str,
    command: &str,
    backends: &[BackendResults],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# expose vs hand-written axum + sqlx: latest figures\n\n\
         Written by `{command}` ({mode} mode). How to rerun and what is measured: \
         [README.md](README.md).\n"
    );
    machine.markdown(&mut out);
    let _ = writeln!(
        out,
        "\n{} rows seeded; {} measured rounds per cell of {} ms per side (plus a {} ms warm-up \
         per side), and blocks of {} more, up to {} rounds, for a cell whose throughput or p99 \
         ratio's 95 % interval still contains the bar (the **rounds** column); at most {} \
         requests per run; the sides alternate within each round. \
         Both servers are child processes of the bench binary, each with its own tokio runtime \
         (default worker threads) and a pool of `Db::connect`'s defaults (10 connections); the \
         load generator runs in the parent on the same machine.\n",
        settings.seed_rows,
        settings.rounds,
        settings.round.as_millis(),
        settings.warmup.as_millis(),
        crate::run::EXTEND_BY,
        settings.max_rounds,
        settings.max_requests
    );
    let _ = writeln!(
        out,
        "**ratio** = generated / hand-written. Each round runs both sides back to back, so \
         a throughput ratio is taken per round, between runs that saw the same machine, and \
         the table gives the median of the rounds' ratios with a 95 % confidence interval of \
         that median in brackets (distribution-free, from the order statistics). **p99 ratio** \
         is the ratio of the p99s of all measured requests of each side (a run's p99, as a \
         load generator reports it), with a 95 % bootstrap interval: the rounds drawn again \
         with replacement, both sides of a round together, 1 000 times — a slow spell of the \
         machine during a few runs of one side widens it as much as it moves the ratio. \
         **p99 per round** is the median of the rounds' ratios of each run's own p99, with its \
         interval: paired like the throughput, but a run's p99 is its few slowest requests, \
         so it spreads widely from round to round (shown, not the bar's). \
         **CPU µs/req** is the CPU time the server process spent \
         (all its threads, from `/proc/<pid>/task/*/schedstat`) per request over the measured \
         runs: the cost of each side, much less sensitive to a busy machine than throughput \
         (the database server's own CPU is not in it). **switches/req** is how many times the \
         server's threads were put on a CPU per request (the third field of the same file): \
         each follows a context switch, when a thread waited (for a lock, a channel, the next \
         request) or its time slice ran out. **bar**: throughput ≥ {BAR_THROUGHPUT}× \
         (median) and p99 ≤ {BAR_P99}× (p99 ratio) (issue 9); ✗ marks a miss, and ✗? a miss \
         whose confidence interval still reaches the bar (the measurement cannot tell it from \
         a pass).\n"
    );
    let _ = writeln!(
        out,
        "Figures from a small machine are provisional: the servers, the load generator and the \
         database servers share its cores, often with other work (see the load average above); \
         read the ratios with their spread, and the CPU per request, rather than the absolute \
         numbers. Instruction counts per request, which do not depend on the machine's load, \
         are in [PROFILE.md](PROFILE.md).\n"
    );
    let _ = writeln!(out, "## Workloads\n");
    for w in &settings.workloads {
        let _ = writeln!(out, "- **{}**: {}", w.name(), w.description());
    }
    let mut misses = Vec::new();
    for b in backends {
        let _ = writeln!(
            out,
            "\n## {} ({})\n\nRun took {:.0} s. RSS right after start: generated {}, hand-written {}. \
             Peak RSS is {} per cell.\n",
            backend_name(b.backend),
            b.version,
            b.elapsed.as_secs_f64(),
            mib(b.idle_rss_kib.0),
            mib(b.idle_rss_kib.1),
            if b.peak_reset {
                "`VmHWM`, reset before"
            } else {
                "`VmHWM` since start (could not be reset)"
            }
        );
        let _ = writeln!(
            out,
            "| workload | conc. | rounds | req/s gen. | req/s hand | ratio | p50 gen. | p50 hand | p99 gen. | p99 hand | p99 ratio | p99 per round | CPU µs/req gen. | CPU µs/req hand | CPU ratio | switches/req gen. | switches/req hand | peak RSS gen. | peak RSS hand | bar |"
        );
        let _ = writeln!(
            out,
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|"
        );
        for c in &b.cells {
            let (g, h) = (&c.generated, &c.handwritten);
            let (g50, g99) = c.p50_p99(Side::Generated);
            let (h50, h99) = c.p50_p99(Side::Handwritten);
            let (tr, tr_lo, tr_hi) = c.throughput_ratio();
            let (lr, lr_lo, lr_hi) = c.p99_ratio();
            let (pr, pr_lo, pr_hi) = c.round_p99_ratio();
            let ok = tr >= BAR_THROUGHPUT && lr <= BAR_P99;
            let within = tr_hi >= BAR_THROUGHPUT && lr_lo <= BAR_P99;
            if !ok {
                misses.push(format!(
                    "{} {} c={}: throughput {tr:.2}× ({tr_lo:.2}–{tr_hi:.2}), p99 {lr:.2}× \
                     ({lr_lo:.2}–{lr_hi:.2}){}",
                    backend_name(b.backend),
                    c.workload.name(),
                    c.concurrency,
                    if within {
                        "; the interval reaches the bar"
                    } else {
                        ""
                    }
                ));
            }
            let (gc, hc) = (g.cpu_us_per_request(), h.cpu_us_per_request());
            let cpu = |c: Option<f64>| c.map_or_else(|| "?".to_owned(), |c| format!("{c:.0}"));
            let cpu_ratio = match (gc, hc) {
                (Some(a), Some(b)) => format!("{:.2}", ratio(a, b)),
                _ => "?".to_owned(),
            };
            let switches = |f: &SideFigures| {
                f.switches_per_request()
                    .map_or_else(|| "?".to_owned(), |s| format!("{s:.1}"))
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.0} | {:.0} | {:.2} ({:.2}–{:.2}) | {} | {} | {} | {} | {:.2} ({:.2}–{:.2}) | {:.2} ({:.2}–{:.2}) | {} | {} | {} | {} | {} | {} | {} | {} |",
                c.workload.name(),
                c.concurrency,
                c.round_rps.len(),
                g.result.rps(),
                h.result.rps(),
                tr,
                tr_lo,
                tr_hi,
                ms(g50),
                ms(h50),
                ms(g99),
                ms(h99),
                lr,
                lr_lo,
                lr_hi,
                pr,
                pr_lo,
                pr_hi,
                cpu(gc),
                cpu(hc),
                cpu_ratio,
                switches(g),
                switches(h),
                mib(g.peak_rss_kib),
                mib(h.peak_rss_kib),
                match (ok, within) {
                    (true, _) => "✓",
                    (false, true) => "✗?",
                    (false, false) => "✗",
                }
            );
        }
    }
    let _ = writeln!(out, "\n## Misses of the bar\n");
    if misses.is_empty() {
        let _ = writeln!(out, "None.");
    } else {
        for m in misses {
            let _ = writeln!(out, "- {m}");
        }
    }
    out
}

fn p50(f: &SideFigures) -> u32 {
    f.clone().p50_p99().0
}

/// The scaling report.
pub fn scaling_markdown(
    machine: &Machine,
    command: &str,
    rounds: u32,
    round_ms: u128,
    backends: &[ScalingResults],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# List latency against table size\n\n\
         Written by `{command}`. How to rerun: [README.md](README.md).\n"
    );
    machine.markdown(&mut out);
    let _ = writeln!(
        out,
        "\nOne connection (concurrency 1), {rounds} rounds of {round_ms} ms per side, sides \
         alternating; p50 latency of `GET` pages of 100 rows, default columns. `n` is the \
         number of requests measured per side. *first page*: `?limit=100`; *deep offset*: the \
         last page, `?limit=100&offset=N-100`; *keyset*: the same page, \
         `?id=gt.(N-100)&order=id&limit=100`; *count*: with `Prefer: count=exact` or \
         `count=planned` (the planner's estimate: `EXPLAIN` on PostgreSQL and MySQL/MariaDB, \
         on both sides; SQLite has none and counts).\n"
    );
    for b in backends {
        let seeding: Vec<String> = b
            .seeding
            .iter()
            .map(|(r, d)| format!("{r} rows in {:.1} s", d.as_secs_f64()))
            .collect();
        let _ = writeln!(
            out,
            "## {} ({})\n\nSeeding: {}. Run took {:.0} s.\n",
            backend_name(b.backend),
            b.version,
            seeding.join(", "),
            b.elapsed.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "| rows | paging | count | p50 gen. | p50 hand | ratio | n gen. | n hand |"
        );
        let _ = writeln!(out, "|--:|---|:-:|--:|--:|--:|--:|--:|");
        for c in &b.cells {
            let (g, h) = (p50(&c.generated), p50(&c.handwritten));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {:.2} | {} | {} |",
                c.rows,
                c.paging.name(),
                c.count
                    .and_then(|c| c.strip_prefix("count="))
                    .unwrap_or("–"),
                ms(g),
                ms(h),
                ratio(f64::from(g), f64::from(h)),
                c.generated.result.ok,
                c.handwritten.result.ok
            );
        }
        let _ = writeln!(out);
    }
    out
}
