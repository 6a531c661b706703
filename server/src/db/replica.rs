//! A streaming replica of the PostgreSQL database (`DATABASE_REPLICA_URL`),
//! for the reads that may lag: [`Db::on_replica`](super::Db::on_replica).
//!
//! Which reads go there is each caller's decision, made where the read is:
//! catalogue pages behind the page cache and token checks do; prices, stock,
//! carts, logins, admin reads and anything that must see the request's own
//! write stay on the primary (`db.reader()` means the primary, read-only).
//!
//! The replica is never needed: a read that cannot get a replica connection,
//! or fails on one (the replica stopped, a statement cancelled by a conflict
//! with recovery), runs again on the primary, and for [`REST`] after a
//! failure the reads go to the primary without trying, so a replica that is
//! down costs one failed attempt a second, not one per request. `/readyz`
//! asks the primary only. What happened is counted on `/metrics`
//! (`db_replica_reads_total{result}`: `ok` answered by the replica,
//! `fallback` answered by the primary because the replica failed or rests,
//! `recheck` asked again on the primary because the replica's answer could
//! be a lagging one, such as a token not found there) and logged once per
//! change (a warning when the replica starts failing, a line when it answers
//! again).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel_async::pooled_connection::deadpool::Pool;

use super::PgConn;
use crate::error::ApiError;

/// How long reads skip the replica after it failed one.
pub const REST: Duration = Duration::from_secs(1);

/// The replica's pool, and what became of the reads sent to it.
pub(crate) struct Replica {
    pub(super) pool: Pool<PgConn>,
    ok: AtomicU64,
    fallback: AtomicU64,
    recheck: AtomicU64,
    /// Milliseconds after `epoch` before which reads skip the replica.
    resting_until: AtomicU64,
    epoch: Instant,
    /// Whether the last attempt failed (for logging changes only).
    failing: AtomicBool,
}

/// What became of one read sent to the replica.
pub(super) enum Outcome {
    Ok,
    Recheck,
    Fallback,
}

impl Replica {
    pub(super) fn new(pool: Pool<PgConn>) -> Self {
        Self {
            pool,
            ok: AtomicU64::new(0),
            fallback: AtomicU64::new(0),
            recheck: AtomicU64::new(0),
            resting_until: AtomicU64::new(0),
            epoch: Instant::now(),
            failing: AtomicBool::new(false),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether reads skip the replica for now (it failed less than [`REST`] ago).
    pub(super) fn resting(&self) -> bool {
        self.now_ms() < self.resting_until.load(Ordering::Relaxed)
    }

    pub(super) fn count(&self, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Ok => &self.ok,
            Outcome::Recheck => &self.recheck,
            Outcome::Fallback => &self.fallback,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The replica answered: logged when it had been failing.
    pub(super) fn answered(&self) {
        if self.failing.swap(false, Ordering::Relaxed) {
            tracing::info!("database replica answers again: lag-tolerant reads go to it");
        }
    }

    /// A read failed on the replica: the next ones rest from it for [`REST`].
    pub(super) fn failed(&self, error: &ApiError) {
        let until = self.now_ms() + REST.as_millis() as u64;
        self.resting_until.store(until, Ordering::Relaxed);
        if !self.failing.swap(true, Ordering::Relaxed) {
            tracing::warn!(%error, "database replica failed: reads go to the primary");
        }
    }

    /// `db_replica_reads_total`, in the text format.
    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        crate::metrics::write_counter(
            &mut out,
            "db_replica_reads_total",
            "Lag-tolerant reads by where they were answered: ok (the replica), fallback (the primary: the replica failed or rests), recheck (the primary: the replica's answer may lag).",
            "result",
            [
                ("ok", self.ok.load(Ordering::Relaxed)),
                ("fallback", self.fallback.load(Ordering::Relaxed)),
                ("recheck", self.recheck.load(Ordering::Relaxed)),
            ],
        );
        out
    }
}
