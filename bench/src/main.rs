//! `cargo run --release -p expose-bench -- [--backend sqlite,postgres,mysql] [--quick]
//! [--scaling]`: measures the generated `people` API against hand-written axum + sqlx
//! handlers and writes `bench/RESULTS.md` (or `bench/SCALING.md`); `--soak` watches the
//! generated server's memory, open files and answers under steady load instead (prints only).
//! See `bench/README.md`.

use clap::Parser;
use expose_bench::load::Workload;
use expose_bench::report::{self, Machine};
use expose_bench::run::{self, Settings};
use expose_bench::server::{self, Side};
use expose_bench::setup::{BenchDb, Error};
use expose_runtime::Backend;
use std::path::PathBuf;
use std::time::Duration;

/// Benchmark of the generated `people` API against hand-written axum + sqlx handlers.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Backends to measure, comma-separated: sqlite, postgres, mysql.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres,mysql")]
    backend: Vec<String>,
    /// A short run (under two minutes for the three backends): fewer, shorter rounds.
    #[arg(long)]
    quick: bool,
    /// Measure list latency against table size instead of the workloads (writes SCALING.md).
    #[arg(long)]
    scaling: bool,
    /// Run the generated server under steady mixed load on each backend for --soak-secs and
    /// print its memory, open files, answers by status and the row invariant every
    /// --interval-secs (see bench/SOAK.md); fails when an answer was unexpected or the
    /// invariant broke.
    #[arg(long, conflicts_with = "scaling")]
    soak: bool,
    /// With --soak: seconds of load per backend.
    #[arg(long, default_value_t = 180)]
    soak_secs: u64,
    /// With --soak: seconds between samples.
    #[arg(long, default_value_t = 10)]
    interval_secs: u64,
    /// PostgreSQL server; the benchmark owns the schema `expose_bench` in it.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres: String,
    /// MySQL/MariaDB server; the benchmark owns the database `expose_bench` on it.
    #[arg(long, default_value = "mysql://root@127.0.0.1:3306/test")]
    mysql: String,
    /// Workloads to run, comma-separated (default all): retrieve, list, list-hooked,
    /// list-filtered, embed-author, embed-articles, create, update, remove, mixed,
    /// bulk-create, update-filtered, upsert.
    #[arg(long, value_delimiter = ',')]
    workloads: Option<Vec<String>>,
    /// Concurrent connections, comma-separated (default 1,32; --soak: the first, default 16).
    #[arg(long, value_delimiter = ',')]
    concurrency: Option<Vec<usize>>,
    /// Measured rounds per cell (default 60; 6 with --quick; scaling 3 / 2).
    #[arg(long)]
    rounds: Option<u32>,
    /// Most rounds per cell: past --rounds, a cell whose throughput or p99 ratio's 95 %
    /// interval still contains the bar runs blocks of 20 more rounds, up to this many
    /// (default twice --rounds; no more rounds with --quick).
    #[arg(long)]
    max_rounds: Option<u32>,
    /// Milliseconds per side per round (default 250; 80 with --quick; scaling 400 / 250).
    #[arg(long)]
    round_ms: Option<u64>,
    /// Rows seeded for the workloads (default 10000).
    #[arg(long, default_value_t = 10_000)]
    rows: u64,
    /// Table sizes of --scaling, comma-separated (default 10000,100000,1000000; --quick
    /// 10000,100000).
    #[arg(long, value_delimiter = ',')]
    sizes: Option<Vec<u64>>,
    /// Where to write the report (default bench/RESULTS.md, or bench/SCALING.md).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Serve one side (generated or handwritten) on a free loopback port, print its address
    /// and run until standard input closes (the bench starts its servers this way; alone, it
    /// is a server to profile). A line `heap` on standard input prints what its allocators
    /// hold (SQLite's and malloc's bytes).
    #[arg(long, requires = "url")]
    serve: Option<String>,
    /// The database URL of --serve.
    #[arg(long)]
    url: Option<String>,
    /// With --serve: make the table and seed this many rows when it is empty.
    #[arg(long)]
    seed: Option<u64>,
    /// Drive a server already listening on a loopback ADDR with the first of --workloads at
    /// the first of --concurrency for --round-ms (default 10 s) or --requests, and print the
    /// figures (remove is not available: it needs rows made for it).
    #[arg(long, value_name = "ADDR")]
    drive: Option<std::net::SocketAddr>,
    /// With --drive: most requests to send.
    #[arg(long, default_value_t = 1_000_000)]
    requests: u64,
}

fn backend_of(name: &str) -> Result<Backend, Error> {
    match name {
        "sqlite" => Ok(Backend::Sqlite),
        "postgres" | "postgresql" => Ok(Backend::Postgres),
        "mysql" | "mariadb" => Ok(Backend::MySql),
        other => Err(format!("unknown backend `{other}`: use sqlite, postgres or mysql").into()),
    }
}

/// `--drive`: one workload against a server started by hand (e.g. under a profiler).
async fn drive(cli: &Cli, addr: std::net::SocketAddr) -> Result<(), Error> {
    if !addr.ip().is_loopback() {
        return Err(format!("--drive only targets loopback addresses, not {addr}").into());
    }
    let name = cli
        .workloads
        .as_ref()
        .and_then(|w| w.first().cloned())
        .unwrap_or_else(|| "retrieve".into());
    let workload = Workload::parse(&name).ok_or_else(|| format!("unknown workload `{name}`"))?;
    if workload == Workload::Remove {
        return Err("--drive cannot run remove: it needs rows made for it".into());
    }
    let conc = cli
        .concurrency
        .as_ref()
        .and_then(|c| c.first().copied())
        .unwrap_or(1);
    let traffic = std::sync::Arc::new(expose_bench::load::Traffic::Workload {
        workload,
        seed_rows: cli.rows,
        remove_ids: 0..0,
        tag: format!("drive{}", std::process::id()),
    });
    let duration = Duration::from_millis(cli.round_ms.unwrap_or(10_000));
    let mut r = expose_bench::load::run(addr, traffic, conc, cli.requests, duration, 1).await;
    r.latencies_us.sort_unstable();
    println!(
        "{} c={conc}: {} ok, {} errors, {:.0} req/s, p50 {} us, p99 {} us{}",
        workload.name(),
        r.ok,
        r.errors,
        r.rps(),
        expose_bench::load::percentile(&r.latencies_us, 50.0),
        expose_bench::load::percentile(&r.latencies_us, 99.0),
        r.first_error
            .map(|e| format!(", first error: {e}"))
            .unwrap_or_default()
    );
    Ok(())
}

/// `--soak`: each backend in turn, then a table of all of them.
async fn soak<'a>(
    cli: &'a Cli,
    machine: &Machine,
    backends: Vec<Backend>,
    url_of: impl Fn(Backend) -> &'a str,
) -> Result<(), Error> {
    use expose_bench::soak::{self, SoakSettings};
    let settings = SoakSettings {
        duration: Duration::from_secs(cli.soak_secs.max(1)),
        interval: Duration::from_secs(cli.interval_secs.max(1)),
        concurrency: cli
            .concurrency
            .as_ref()
            .and_then(|c| c.first().copied())
            .unwrap_or(16)
            .max(1),
        seed_rows: cli.rows,
    };
    println!(
        "soak: {} on {} CPUs ({}), load average {}, commit {}, {}",
        machine.date,
        machine.cpus,
        machine.cpu_model,
        machine.loadavg,
        machine.commit,
        machine.rustc
    );
    let mut all = Vec::new();
    for b in backends {
        let bdb = BenchDb::create_named(b, url_of(b), soak::SOAK_SCHEMA).await?;
        let r = soak::run(&bdb, &settings).await;
        bdb.cleanup().await;
        all.push(r?);
    }
    println!("\n{}", soak::markdown(&all));
    let failed: Vec<String> = all
        .iter()
        .filter(|r| !r.clean())
        .map(|r| format!("{:?}", r.backend))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "unexpected answers or a broken invariant on {}",
            failed.join(", ")
        )
        .into())
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let cli = Cli::parse();
    if let Some(side) = &cli.serve {
        let side = Side::parse(side).ok_or("--serve takes generated or handwritten")?;
        let url = cli.url.as_deref().ok_or("--serve needs --url")?;
        return server::serve(side, url, cli.seed).await;
    }
    if let Some(addr) = cli.drive {
        return drive(&cli, addr).await;
    }
    let backends = cli
        .backend
        .iter()
        .map(|b| backend_of(b))
        .collect::<Result<Vec<_>, _>>()?;
    let url_of = |b: Backend| match b {
        Backend::Sqlite => "",
        Backend::Postgres => cli.postgres.as_str(),
        Backend::MySql => cli.mysql.as_str(),
    };
    let machine = Machine::read();
    let mode = if cli.quick { "quick" } else { "full" };
    let command = std::env::args()
        .skip(1)
        .fold("expose-bench".to_owned(), |c, a| c + " " + &a);
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));

    if cli.soak {
        return soak(&cli, &machine, backends, url_of).await;
    }

    if cli.scaling {
        let sizes = cli.sizes.clone().unwrap_or_else(|| {
            if cli.quick {
                vec![10_000, 100_000]
            } else {
                vec![10_000, 100_000, 1_000_000]
            }
        });
        let rounds = cli.rounds.unwrap_or(if cli.quick { 2 } else { 3 });
        let round =
            Duration::from_millis(cli.round_ms.unwrap_or(if cli.quick { 250 } else { 400 }));
        let mut all = Vec::new();
        for b in backends {
            let bdb = BenchDb::create(b, url_of(b)).await?;
            let r = run::scaling(&bdb, &sizes, rounds, round).await;
            bdb.cleanup().await;
            all.push(r?);
        }
        let md = report::scaling_markdown(&machine, &command, rounds, round.as_millis(), &all);
        let out = cli.out.unwrap_or_else(|| manifest.join("SCALING.md"));
        std::fs::write(&out, md)?;
        eprintln!("wrote {}", out.display());
        return Ok(());
    }

    let workloads = match &cli.workloads {
        None => Workload::ALL.to_vec(),
        Some(names) => names
            .iter()
            .map(|n| Workload::parse(n).ok_or_else(|| format!("unknown workload `{n}`")))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let rounds = cli.rounds.unwrap_or(if cli.quick { 6 } else { 60 });
    let settings = Settings {
        rounds,
        max_rounds: cli
            .max_rounds
            .unwrap_or(if cli.quick { rounds } else { 2 * rounds })
            .max(rounds),
        round: Duration::from_millis(cli.round_ms.unwrap_or(if cli.quick { 80 } else { 250 })),
        warmup: Duration::from_millis(if cli.quick { 80 } else { 300 }),
        max_requests: 200_000,
        concurrency: cli.concurrency.clone().unwrap_or_else(|| vec![1, 32]),
        workloads,
        seed_rows: cli.rows,
    };
    let mut all = Vec::new();
    for b in backends {
        let bdb = BenchDb::create(b, url_of(b)).await?;
        let r = run::workloads(&bdb, &settings).await;
        bdb.cleanup().await;
        all.push(r?);
    }
    let md = report::results_markdown(&machine, &settings, mode, &command, &all);
    let out = cli.out.unwrap_or_else(|| manifest.join("RESULTS.md"));
    std::fs::write(&out, md)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
