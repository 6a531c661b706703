//! Argon2id hashing on a few dedicated threads, with a bounded queue.
//!
//! Each hash costs ~19 MiB and tens of milliseconds of CPU. On tokio's blocking
//! pool every pool thread kept its own 19 MiB in its malloc arena (543 MiB
//! resident after a login benchmark). Here one thread per core hashes, each
//! into working memory it allocated once, so memory stays at cores × 19 MiB and
//! the CPU at what the machine has, while the async runtime goes on serving
//! everything else. A storm beyond the queue's bound is told to come back (429)
//! rather than left to time out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{self, Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use server::ApiError;

/// Hashes waiting or running before new ones are refused.
const MAX_QUEUED: usize = 256;

/// Work for a hashing thread, given that thread's argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    queued: Arc<AtomicUsize>,
    /// A real hash of a random password, verified against when the user does
    /// not exist, so unknown and known usernames take the same time.
    dummy: Arc<String>,
}

impl Hasher {
    /// Starts one hashing thread per core, each with its own working memory.
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
                .spawn(move || {
                    // Allocated by the first hash, then reused by every other.
                    let mut memory = Vec::new();
                    loop {
                        let job = inbox.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => break, // every Hasher is gone
                        }
                    }
                })?;
        }
        let dummy = hash_with(&mut Vec::new(), &format!("{:x}", rand::random::<u128>()))?;
        Ok(Self {
            jobs,
            queued: Arc::new(AtomicUsize::new(0)),
            dummy: Arc::new(dummy),
        })
    }

    /// Runs `work` on a hashing thread and waits for it without blocking the runtime.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        if self.queued.fetch_add(1, Ordering::SeqCst) >= MAX_QUEUED {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::TooManyRequests { retry_after: 1 });
        }
        let (done, result) = tokio::sync::oneshot::channel();
        let queued = self.queued.clone();
        let job: Job = Box::new(move |memory| {
            let _ = done.send(work(memory));
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
        self.run(move |memory| hash_with(memory, &password))
            .await?
            .map_err(ApiError::Internal)
    }

    /// Whether `password` matches `hash`; with no hash (unknown user) it checks
    /// against a dummy so that the answer takes as long, and says no.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy.as_ref().clone());
        let matches = self
            .run(move |memory| verify_with(memory, &password, &hash))
            .await?;
        Ok(known && matches)
    }
}

/// The PHC string of an argon2id hash (default parameters, fresh salt),
/// computed in `memory`: what `Argon2::hash_password` does, minus the allocation.
fn hash_with(memory: &mut Vec<Block>, password: &str) -> anyhow::Result<String> {
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    let output = compute(
        &argon2,
        memory,
        password,
        salt.as_salt(),
        Params::DEFAULT_OUTPUT_LEN,
    )
    .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)
            .map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc`, computed in `memory`,
/// compared in constant time (`Output`'s equality).
fn verify_with(memory: &mut Vec<Block>, password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let argon2 = Argon2::new(algorithm, version, params);
    compute(&argon2, memory, password, salt, expected.len())
        .is_ok_and(|computed| computed == expected)
}

/// Argon2 of `password` and `salt` into `len` bytes, in `memory` (grown if
/// these parameters need more than it has).
fn compute(
    argon2: &Argon2<'_>,
    memory: &mut Vec<Block>,
    password: &str,
    salt: Salt<'_>,
    len: usize,
) -> password_hash::Result<Output> {
    let blocks = argon2.params().block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    Output::init_with(len, |out| {
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory[..blocks])
            .map_err(|_| password_hash::Error::Crypto)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordVerifier;

    fn memory() -> Vec<Block> {
        vec![Block::default(); Params::default().block_count()]
    }

    #[test]
    fn hashes_are_standard_argon2id_phc_strings() {
        let hash = hash_with(&mut memory(), "correct horse").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
    }

    #[test]
    fn verify_accepts_the_password_and_nothing_else() {
        let mut memory = memory();
        let hash = hash_with(&mut memory, "correct horse").unwrap();
        assert!(verify_with(&mut memory, "correct horse", &hash));
        assert!(!verify_with(&mut memory, "correct horsf", &hash));
        assert!(!verify_with(&mut memory, "", &hash));
        assert!(!verify_with(&mut memory, "correct horse", "not a hash"));
    }

    #[test]
    fn verify_reads_hashes_made_by_the_argon2_crate_itself() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::generate(&mut OsRng);
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        );
        let hash = small.hash_password(b"pw", &salt).unwrap().to_string();
        let mut tiny = Vec::new();
        assert!(verify_with(&mut tiny, "pw", &hash));
        assert!(!verify_with(&mut tiny, "px", &hash));
    }
}
