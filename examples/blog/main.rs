//! `cargo run --example blog`: users and posts with bearer tokens, hooks and row scopes.
//!
//! `ADDR` (default `127.0.0.1:3001`) and `DATABASE_URL` (default `sqlite:blog.db`).

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
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3001".into());
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite:blog.db".into());
    let db = Db::connect(&url).await?;
    app::create_tables(&db).await?;
    // The structs are a contract: refuse to start when a table disagrees with its model.
    expose_runtime::verify(
        &db,
        &[
            app::User::MODEL,
            app::Post::MODEL,
            app::Tag::MODEL,
            app::PostTag::MODEL,
        ],
    )
    .await?;
    app::seed(&db).await?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    println!(
        "blog API on http://{local} ({:?})\n  admin token: {}\n  user token:  {}\n  \
         curl http://{local}/posts\n  \
         curl http://{local}/posts -H 'Authorization: Bearer {}'\n  \
         curl -X POST http://{local}/posts -H 'Authorization: Bearer {}' \
         -H 'Content-Type: application/json' -d '{{\"title\":\"Hi\",\"body\":\"...\"}}'",
        db.backend(),
        app::ADMIN_TOKEN,
        app::USER_TOKEN,
        app::USER_TOKEN,
        app::USER_TOKEN,
    );
    // tower-http traces each HTTP request (method, URI, status, latency) around the
    // runtime's own `expose request` line (resource, operation, status, latency).
    let app = app::app(db.clone()).layer(tower_http::trace::TraceLayer::new_for_http());
    // Header timeout, connection cap, header size bound and bounded graceful shutdown
    // (`ServeConfig::default()`: 10 s, 512, 16 KiB, 10 s).
    expose_runtime::serve(listener, app)
        .with_graceful_shutdown(expose_runtime::shutdown_signal())
        .await?;
    db.close().await;
    Ok(())
}
