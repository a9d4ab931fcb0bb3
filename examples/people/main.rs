//! `cargo run --example people`: the `people` API on 127.0.0.1:3000 with SQLite.
//!
//! `ADDR` sets the address, `API_PREFIX` nests the API under a prefix (`/api/v1`; the
//! document and the index stay at `/openapi.json` and `/`), `DATABASE_URL` the database
//! (`sqlite:`, `postgres://` or `mysql://`; default `sqlite:people.db`), `SEED_ROWS` the rows seeded into an empty table
//! (default 1000).

mod app;

use expose_runtime::Db;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=debug".into()),
        )
        .init();
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite:people.db".into());
    let rows: u64 = std::env::var("SEED_ROWS")
        .ok()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1000);

    let db = Db::connect(&url).await?;
    app::create_table(&db).await?;
    // The struct is a contract: refuse to start when the table disagrees with it.
    expose_runtime::verify(&db, &[app::Person::MODEL]).await?;
    let started = std::time::Instant::now();
    let seeded = app::seed(&db, rows).await?;
    if seeded > 0 {
        tracing::info!(rows = seeded, elapsed = ?started.elapsed(), "seeded people");
    }

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    let prefix = std::env::var("API_PREFIX").unwrap_or_default();
    let prefix = prefix.trim_end_matches('/');
    println!(
        "people API on http://{local} ({backend:?}) — try:\n  \
         curl 'http://{local}{prefix}/people?limit=3'\n  \
         curl 'http://{local}{prefix}/people/1'\n  \
         curl 'http://{local}{prefix}/people?age=gte.70&order=name.desc&select=id,name,age' -H 'Prefer: count=exact' -i\n  \
         curl -X POST 'http://{local}{prefix}/people' -H 'Content-Type: application/json' \
         -d '{{\"name\":\"Ada\",\"email\":\"ada@example.com\",\"password\":\"pw\",\"age\":36}}' -i",
        backend = db.backend()
    );
    // tower-http traces each HTTP request (method, URI, status, latency) around the
    // runtime's own `expose request` line (resource, operation, status, latency).
    let app = match prefix {
        "" => app::app(db.clone()),
        prefix => app::app_under(db.clone(), prefix),
    };
    let app = app.layer(tower_http::trace::TraceLayer::new_for_http());
    // Header timeout, connection cap, header size bound and bounded graceful shutdown
    // (`ServeConfig::default()`: 10 s, 512, 16 KiB, 10 s).
    expose_runtime::serve(listener, app)
        .with_graceful_shutdown(expose_runtime::shutdown_signal())
        .await?;
    db.close().await;
    Ok(())
}
