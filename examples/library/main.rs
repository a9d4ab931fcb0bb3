//! `cargo run --example library`: books, members and loans, with bearer tokens, hooks that
//! read and lock rows in the write's transaction, and a scope that checks writes.
//!
//! `ADDR` (default `127.0.0.1:3003`) and `DATABASE_URL` (default `sqlite:library.db`).

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
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3003".into());
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite:library.db".into());
    let db = Db::connect(&url).await?;
    app::create_tables(&db).await?;
    app::seed(&db).await?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    println!(
        "library API on http://{local} ({:?})\n  tokens: staff-token (member 1, staff), \
         ann-token (member 2), ben-token (member 3)\n  \
         curl http://{local}/books\n  \
         curl -X POST http://{local}/loans -H 'Authorization: Bearer ann-token' \
         -H 'Content-Type: application/json' -d '{{\"book_id\":1,\"member_id\":2}}'",
        db.backend(),
    );
    let app = app::app(db.clone()).layer(tower_http::trace::TraceLayer::new_for_http());
    expose_runtime::serve(listener, app)
        .with_graceful_shutdown(expose_runtime::shutdown_signal())
        .await?;
    db.close().await;
    Ok(())
}
