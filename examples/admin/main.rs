//! `cargo run --example admin`: the `people` and `blog` resources and an admin page at
//! `/admin`, on 127.0.0.1:3002 with SQLite.
//!
//! The page (react-admin, `examples/admin/web/`) is built once with
//! `cd examples/admin/web && npm ci && npm run build`; it reads `/openapi.json` at load and
//! builds a list, show, edit and create view per resource from it.
//!
//! `ADDR` sets the address, `DATABASE_URL` the database (`sqlite:`, `postgres://` or
//! `mysql://`; default `sqlite:admin.db`), `SEED_ROWS` the people seeded into an empty table
//! (default 1000), `ADMIN_DIR` the built page (default `examples/admin/web/dist`), and
//! `CORS_ORIGIN` (e.g. `http://localhost:5173`) adds a CORS layer for a page served from that
//! origin, such as the page's own development server (`npm run dev`).

mod app;

use axum::http::HeaderValue;
use expose_runtime::Db;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=debug".into()),
        )
        .init();
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3002".into());
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite:admin.db".into());
    let rows: u64 = std::env::var("SEED_ROWS")
        .ok()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1000);

    let db = Db::connect(&url).await?;
    app::people::create_table(&db).await?;
    app::people::seed(&db, rows).await?;
    app::blog::create_tables(&db).await?;
    app::blog::seed(&db).await?;
    // The structs are a contract: refuse to start when a table disagrees with its model.
    expose_runtime::verify(
        &db,
        &[
            app::Person::MODEL,
            app::blog::User::MODEL,
            app::blog::Post::MODEL,
        ],
    )
    .await?;

    let mut router = app::app(db.clone());
    if let Some(origin) = std::env::var("CORS_ORIGIN").ok().filter(|o| !o.is_empty()) {
        router = router.layer(app::cors(HeaderValue::from_str(&origin)?));
        tracing::info!(%origin, "CORS: the API answers pages from this origin");
    }
    // tower-http traces each HTTP request around the runtime's own `expose request` line.
    let router = router.layer(tower_http::trace::TraceLayer::new_for_http());

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    println!(
        "admin page on http://{local}/admin/ ({backend:?}); the API's document: \
         http://{local}/openapi.json\n  \
         blog tokens (paste one into the page's token field): admin {admin}, user {user}",
        backend = db.backend(),
        admin = app::blog::ADMIN_TOKEN,
        user = app::blog::USER_TOKEN,
    );
    expose_runtime::serve(listener, router)
        .with_graceful_shutdown(expose_runtime::shutdown_signal())
        .await?;
    db.close().await;
    Ok(())
}
