//! Argon2id hashing on a few dedicated threads, with a bounded queue.
//!
//! Each hash costs ~19 MiB and tens of milliseconds of CPU. Running them on
//! tokio's blocking pool let every pool thread keep its own 19 MiB in its malloc
//! arena (543 MiB resident after a login benchmark); one thread per core keeps
//! the memory at a few arenas and the CPU at what the machine has, while the
//! async runtime goes on serving everything else. A storm beyond the queue's
//! bound is told to come back (429) rather than left to time out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use server::ApiError;

/// Hashes waiting or running before new ones are refused.
const MAX_QUEUED: usize = 256;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    queued: Arc<AtomicUsize>,
    /// A real hash of a random password, verified against when the user does
    /// not exist, so unknown and known usernames take the same time.
    dummy: Arc<String>,
}

impl Hasher {
    /// Starts one hashing thread per core.
    pub fn new() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let (jobs, inbox) = mpsc::channel::<Job>();
        let inbox = Arc::new(Mutex::new(inbox));
        for i in 0..cores {
            let inbox = inbox.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    let job = inbox.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => break, // every Hasher is gone
                    }
                })?;
        }
        let dummy = hash_now(&format!("{:x}", rand::random::<u128>()))?;
        Ok(Self {
            jobs,
            queued: Arc::new(AtomicUsize::new(0)),
            dummy: Arc::new(dummy),
        })
    }

    /// Runs `work` on a hashing thread and waits for it without blocking the runtime.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        if self.queued.fetch_add(1, Ordering::SeqCst) >= MAX_QUEUED {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::TooManyRequests { retry_after: 1 });
        }
        let (done, result) = tokio::sync::oneshot::channel();
        let queued = self.queued.clone();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
            queued.fetch_sub(1, Ordering::SeqCst);
        });
        self.jobs
            .send(job)
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("hashing threads are gone")))?;
        result
            .await
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("a hashing job was dropped")))
    }

    /// The PHC string of an argon2id hash of `password` with a fresh salt.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || hash_now(&password))
            .await?
            .map_err(ApiError::Internal)
    }

    /// Whether `password` matches `hash`; with no hash (unknown user) it checks
    /// against a dummy so that the answer takes as long, and says no.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy.as_ref().clone());
        let matches = self
            .run(move || {
                PasswordHash::new(&hash)
                    .map(|parsed| {
                        Argon2::default()
                            .verify_password(password.as_bytes(), &parsed)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })
            .await?;
        Ok(known && matches)
    }
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}
