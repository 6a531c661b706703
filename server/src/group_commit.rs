//! Group commit: the requests that arrive while a transaction commits go
//! into the next transaction together, on one of a few lanes. A commit
//! waits for the disk (0.2 to 3 ms here, more on a replicated managed
//! database) and holds the row locks it took until then, so work that
//! queues on one row (a hot product's stock) goes as fast as commits
//! follow each other, one request each; together, many requests share each
//! commit and each lock. Each lane applies what has queued since its last
//! transaction as one batch (a function of the caller's, which gives each
//! request its own answer), then answers each request, only after the
//! commit. Requests go to lanes by a key, so those that touch the same rows
//! meet in the same batches.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::error::{ApiError, ApiResult};

/// Requests waiting per lane before a new one waits to be queued.
const QUEUE: usize = 4096;

struct Job<Op, Out> {
    op: Op,
    queued: Instant,
    answer: oneshot::Sender<ApiResult<Out>>,
}

/// The lanes requests queue on; cheap to clone. They end when the last
/// clone is dropped.
pub struct Lanes<Op, Out> {
    lanes: Arc<Vec<mpsc::Sender<Job<Op, Out>>>>,
    name: &'static str,
}

impl<Op, Out> Clone for Lanes<Op, Out> {
    fn clone(&self) -> Self {
        Self {
            lanes: self.lanes.clone(),
            name: self.name,
        }
    }
}

impl<Op: Send + 'static, Out: Send + 'static> Lanes<Op, Out> {
    /// Starts `lanes` lanes (named `name` in answers and logs), each
    /// applying at most `max_batch` requests at once with `apply`, which
    /// returns one answer per request, in order. A request that waited
    /// longer than `give_up` for its turn is answered 503 unapplied, as one
    /// waiting that long for a pooled connection would be.
    pub fn start<F, Fut>(
        name: &'static str,
        lanes: usize,
        max_batch: usize,
        give_up: Duration,
        apply: F,
    ) -> Self
    where
        F: Fn(Vec<Op>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Vec<ApiResult<Out>>> + Send + 'static,
    {
        let lanes = (0..lanes.max(1))
            .map(|_| {
                let (send, receive) = mpsc::channel(QUEUE);
                tokio::spawn(run_lane(name, receive, max_batch, give_up, apply.clone()));
                send
            })
            .collect();
        Self {
            lanes: Arc::new(lanes),
            name,
        }
    }

    /// Applies `op` with whatever else is queued on the lane of `key`; its
    /// answer once committed.
    pub async fn apply(&self, key: u64, op: Op) -> ApiResult<Out> {
        let lane = &self.lanes[(key % self.lanes.len() as u64) as usize];
        let (answer, outcome) = oneshot::channel();
        let job = Job {
            op,
            queued: Instant::now(),
            answer,
        };
        let stopped = || ApiError::Unavailable(self.name);
        lane.send(job).await.map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

async fn run_lane<Op, Out, F, Fut>(
    name: &'static str,
    mut queue: mpsc::Receiver<Job<Op, Out>>,
    max_batch: usize,
    give_up: Duration,
    apply: F,
) where
    Op: Send + 'static,
    Out: Send + 'static,
    F: Fn(Vec<Op>) -> Fut,
    Fut: Future<Output = Vec<ApiResult<Out>>> + Send + 'static,
{
    let mut batch = Vec::with_capacity(max_batch);
    while queue.recv_many(&mut batch, max_batch).await > 0 {
        // A request already answered (timed out, its client gone) is not
        // applied: nobody would learn that it was.
        batch.retain(|job| !job.answer.is_closed());
        let (stale, jobs): (Vec<_>, Vec<_>) = batch
            .drain(..)
            .partition(|job: &Job<Op, Out>| job.queued.elapsed() > give_up);
        for job in stale {
            let _ = job.answer.send(Err(ApiError::Unavailable("The database")));
        }
        if jobs.is_empty() {
            continue;
        }
        let (ops, answers): (Vec<Op>, Vec<_>) =
            jobs.into_iter().map(|job| (job.op, job.answer)).unzip();
        let count = ops.len();
        // In a task of its own, so that a bug that panics fails this batch
        // (500s), not the lane for good.
        match tokio::spawn(apply(ops)).await {
            Ok(outcomes) => {
                tracing::debug!(lane = name, count, "batch committed");
                for (answer, outcome) in answers.into_iter().zip(outcomes) {
                    let _ = answer.send(outcome);
                }
            }
            Err(e) => {
                tracing::error!(lane = name, error = %e, count, "batch failed");
                for answer in answers {
                    let _ = answer.send(Err(ApiError::Internal(anyhow::anyhow!(
                        "{name}: the batch failed"
                    ))));
                }
            }
        }
    }
}
