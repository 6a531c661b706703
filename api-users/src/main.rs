//! The users service: accounts, login tokens, admins.
//!
//! `api-users` serves; `api-users make-admin <username>` makes a user an admin
//! and exits. Both read the same environment (see `server::Settings`).

mod config;
mod db;
mod domain;
mod password;
mod routes;
mod state;
mod token;

use server::{Db, DbConfig, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server::telemetry::init_tracing();
    let settings = Settings::from_env("api-users", shared::ports::USERS)?;
    let db = Db::connect(&DbConfig::from_settings(&settings), db::migrations()).await?;

    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        None => {}
        Some("make-admin") => return make_admin(&db, args.next()).await,
        Some(other) => {
            anyhow::bail!("unknown command {other:?}; usage: api-users [make-admin <username>]")
        }
    }

    let state = state::AppState::new(
        db.clone(),
        password::Hasher::new()?,
        config::UsersConfig::from_env()?,
    );
    let (routes, openapi) = routes::router(state);
    let app = server::http::finish(routes, openapi, db, &settings);
    server::http::serve(app, &settings).await
}

async fn make_admin(db: &Db, username: Option<String>) -> anyhow::Result<()> {
    let username =
        username.ok_or_else(|| anyhow::anyhow!("usage: api-users make-admin <username>"))?;
    if db::queries::make_admin(db, &username)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        println!("{username} is now an admin");
        Ok(())
    } else {
        anyhow::bail!("no user named {username:?}")
    }
}
