//! Group commit: the cart changes that arrive while a transaction commits go
//! into the next transaction together, on one of a few lanes (see [the
//! module](super) for why). Each lane applies what has queued since its last
//! commit as one [batch](super::batch), then answers each request with its
//! own outcome, only after the commit.

use std::time::{Duration, Instant};

use server::idempotency::TxKey;
use server::{ApiError, ApiResult, Db};
use tokio::sync::{mpsc, oneshot};

use super::batch::{self, Answer};
use super::rules::CartOp;

/// The most changes one transaction applies.
const MAX_BATCH: usize = 256;

/// Requests waiting per lane before a new one waits to be queued.
const QUEUE: usize = 4096;

struct Job {
    op: CartOp,
    /// The request's `Idempotency-Key`, claimed in the batch.
    key: Option<TxKey>,
    queued: Instant,
    answer: oneshot::Sender<ApiResult<Answer>>,
}

/// The lanes cart changes queue on; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    lanes: Vec<mpsc::Sender<Job>>,
}

impl Writer {
    /// Starts the lanes: one on SQLite, which has one writing connection
    /// anyway; on PostgreSQL up to 4, half the pool, leaving connections for
    /// reads and checkouts. A change that waited longer than `give_up` for
    /// its turn is answered 503 unapplied, as one waiting that long for a
    /// pooled connection would be. The lanes end when the last clone is dropped.
    pub fn start(db: &Db, pool_size: usize, give_up: Duration) -> Self {
        let lanes = match db {
            Db::Sqlite(..) => 1,
            Db::Postgres(_) => (pool_size / 2).clamp(1, 4),
        };
        let lanes = (0..lanes)
            .map(|_| {
                let (send, receive) = mpsc::channel(QUEUE);
                tokio::spawn(run_lane(db.clone(), receive, give_up));
                send
            })
            .collect();
        Self { lanes }
    }

    /// Applies `op` with whatever else is queued on its lane; its answer
    /// once committed (with `key`, claimed in the same transaction).
    pub async fn apply(&self, op: CartOp, key: Option<TxKey>) -> ApiResult<Answer> {
        let lane = &self.lanes[op.user_id().unsigned_abs() as usize % self.lanes.len()];
        let (answer, outcome) = oneshot::channel();
        let job = Job {
            op,
            key,
            queued: Instant::now(),
            answer,
        };
        lane.send(job).await.map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

fn stopped() -> ApiError {
    ApiError::Unavailable("The cart writer")
}

async fn run_lane(db: Db, mut queue: mpsc::Receiver<Job>, give_up: Duration) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // A request already answered (timed out, its client gone) is not
        // applied: nobody would learn that it was.
        batch.retain(|job| !job.answer.is_closed());
        let (stale, jobs): (Vec<_>, Vec<_>) = batch
            .drain(..)
            .partition(|job: &Job| job.queued.elapsed() > give_up);
        for job in stale {
            let _ = job.answer.send(Err(ApiError::Unavailable("The database")));
        }
        if jobs.is_empty() {
            continue;
        }
        let mut ops = Vec::with_capacity(jobs.len());
        let mut keys = Vec::with_capacity(jobs.len());
        let mut answers = Vec::with_capacity(jobs.len());
        for job in jobs {
            ops.push(job.op);
            keys.push(job.key);
            answers.push(job.answer);
        }
        let changes = ops.len();
        // In a task of its own, so that a bug that panics fails this batch
        // (500s), not the lane for good.
        let db = db.clone();
        let applied = tokio::spawn(async move { batch::apply(&db, &ops, &keys).await })
            .await
            .unwrap_or_else(|e| Err(anyhow::anyhow!("applying cart changes: {e}").into()));
        match applied {
            Ok(outcomes) => {
                tracing::debug!(changes, "cart changes committed");
                for (answer, outcome) in answers.into_iter().zip(outcomes) {
                    let _ = answer.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, changes, "cart changes not committed");
                for answer in answers {
                    let _ = answer.send(Err(same_error(&e)));
                }
            }
        }
    }
}

/// `e` again, for each request of a batch that failed as a whole.
fn same_error(e: &ApiError) -> ApiError {
    match e {
        ApiError::Unavailable(what) => ApiError::Unavailable(what),
        ApiError::TimedOut => ApiError::TimedOut,
        other => ApiError::Internal(anyhow::anyhow!("the cart transaction failed: {other}")),
    }
}
