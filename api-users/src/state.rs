//! What every handler of the users service can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use futures_util::future::BoxFuture;
use server::auth::{token_hash, Freshness, TokenVerifier, Verifier};
use server::{ApiError, Db};
use shared::User;

use crate::config::UsersConfig;
use crate::db::queries;
use crate::password::Hasher;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub hasher: Hasher,
    pub config: UsersConfig,
    pub verifier: Verifier,
}

impl AppState {
    pub fn new(db: Db, hasher: Hasher, config: UsersConfig) -> Self {
        let verifier: Verifier = Arc::new(DbVerifier { db: db.clone() });
        Self {
            db,
            hasher,
            config,
            verifier,
        }
    }
}

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// The users service checks tokens in its own database, on its replica
/// when it has one (`DATABASE_REPLICA_URL`): a token the replica does not
/// know may have been issued a moment ago and not replicated yet, so it is
/// looked for again on the primary before it is refused. A revoked one may
/// still pass on the replica for as long as it lags (milliseconds; the other
/// services cache a confirmation for seconds anyway).
struct DbVerifier {
    db: Db,
}

impl TokenVerifier for DbVerifier {
    fn verify<'a>(&'a self, token: &'a str, _: Freshness) -> BoxFuture<'a, Result<User, ApiError>> {
        Box::pin(async move {
            let hash = token_hash(token);
            self.db
                .on_replica_unless(|from| queries::user_for_token(from, &hash), Option::is_none)
                .await?
                .map(User::from)
                .ok_or_else(|| ApiError::unauthorized("invalid_token", "Not logged in"))
        })
    }
}
