//! The users service: accounts, login tokens, admins.
//!
//! [`build`] makes the application from its settings; the `api-users` binary
//! ([`main`]) serves it, and `api-users make-admin <username>` makes a user
//! an admin ([`command`]) and exits. Both read the same environment (see
//! `server::Settings`); tests build the app from explicit values instead.

mod config;
mod db;
mod domain;
mod password;
mod routes;
mod state;
mod token;

use server::{App, Db, DbConfig, Settings};

pub use config::settings;

/// The service's name, as in its settings and logs.
pub const NAME: &str = "api-users";

/// Connects to the database (migrating it), binds the listening socket and
/// builds the router; `vars` holds the settings of this service beyond the
/// common ones (`TOKEN_TTL_SECS`, ...).
pub async fn build(
    settings: Settings,
    vars: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<App> {
    let config = config::UsersConfig::from_vars(&vars)?;
    let db_config = DbConfig::from_settings(&settings);
    let db = Db::connect(&db_config, db::migrations())
        .await?
        .with_replica(settings.database_replica_url.as_deref(), &db_config)?;
    let listener = server::http::bind(&settings).await?;
    let admission =
        password::Admission::new(config.hashes_per_address, config.hashes_waiting_per_address);
    let retention = db::retention(&config);
    let state = state::AppState::new(db.clone(), password::Hasher::new(admission)?, config);
    let (routes, openapi) = routes::router(state);
    Ok(App::new(listener, routes, openapi, db.clone(), settings).with_retention(&db, retention))
}

/// The binary: `api-users` serves until SIGTERM or Ctrl-C, `api-users
/// make-admin <username>` makes an admin; settings from the environment.
pub async fn main(args: impl IntoIterator<Item = String>) -> anyhow::Result<()> {
    server::config::load_dotenv()?;
    let settings = settings(server::config::env_var)?;
    let mut args = args.into_iter().peekable();
    if args.peek().is_some() {
        println!("{}", command(&settings, args).await?);
        return Ok(());
    }
    build(settings, server::config::env_var).await?.run().await
}

/// A command of the binary (`make-admin <username>`) on the database of
/// `settings`; returns what it has to say.
pub async fn command(
    settings: &Settings,
    args: impl IntoIterator<Item = String>,
) -> anyhow::Result<String> {
    let db = Db::connect(&DbConfig::from_settings(settings), db::migrations()).await?;
    let mut args = args.into_iter();
    match args.next().as_deref() {
        Some("make-admin") => make_admin(&db, args.next()).await,
        other => {
            anyhow::bail!("unknown command {other:?}; usage: api-users [make-admin <username>]")
        }
    }
}

async fn make_admin(db: &Db, username: Option<String>) -> anyhow::Result<String> {
    let username =
        username.ok_or_else(|| anyhow::anyhow!("usage: api-users make-admin <username>"))?;
    if db::queries::make_admin(db, &username)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        Ok(format!("{username} is now an admin"))
    } else {
        anyhow::bail!("no user named {username:?}")
    }
}
