//! Argon2id hashing on a few dedicated threads, with a bounded queue.
//!
//! Each hash costs ~19 MiB and tens of milliseconds of CPU. On tokio's blocking
//! pool every pool thread kept its own 19 MiB in its malloc arena (543 MiB
//! resident after a login benchmark). Here one thread per core hashes, each
//! into working memory it allocated once, so memory stays at cores × 19 MiB and
//! the CPU at what the machine has, while the async runtime goes on serving
//! everything else. A storm beyond the queue's bound is told to come back (429)
//! rather than left to time out.
//!
//! Before a hash is queued it is admitted per client address ([`Admission`]):
//! at most `HASHES_PER_ADDRESS` (1) of one address's hashes are queued or
//! running at a time, `HASHES_WAITING_PER_ADDRESS` (16) more wait their turn,
//! and past that the address gets a 429. The login limiter counts per
//! username, so new usernames (logins of made-up names, registrations) each
//! cost a hash; without this one address could fill the shared queue and keep
//! every core busy. A concurrency bound rather than a budget of hashes per
//! window: it bounds exactly the harm, the share of the cores one address
//! holds at any moment, whatever the rate it sends at, with no number of
//! hashes an hour to guess that is low enough against an attacker yet high
//! enough for an office behind one address; it costs no database write per
//! attempt; and each replica guards its own cores, which are what it protects.
//! Volume over time is the database limits' job (`db::limits`). An IPv6
//! client is its /64, which one host commonly holds whole.

use std::collections::HashMap;
use std::net::IpAddr;
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
    admission: Arc<Admission>,
    /// A real hash of a random password, verified against when the user does
    /// not exist, so unknown and known usernames take the same time.
    dummy: Arc<String>,
}

impl Hasher {
    /// Starts one hashing thread per core, each with its own working memory;
    /// `admission` bounds each client address's share of them.
    pub fn new(admission: Admission) -> anyhow::Result<Self> {
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
            admission: Arc::new(admission),
            dummy: Arc::new(dummy),
        })
    }

    /// Runs `work` on a hashing thread once `client`'s turn comes, and waits
    /// for it without blocking the runtime.
    async fn run<T: Send + 'static>(
        &self,
        client: Option<IpAddr>,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let admitted = self.admission.admit(client).await?;
        if self.queued.fetch_add(1, Ordering::SeqCst) >= MAX_QUEUED {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::TooManyRequests { retry_after: 1 });
        }
        let (done, result) = tokio::sync::oneshot::channel();
        let queued = self.queued.clone();
        let job: Job = Box::new(move |memory| {
            let _ = done.send(work(memory));
            queued.fetch_sub(1, Ordering::SeqCst);
            // The address's turn ends with the hash, not with the request: a
            // client that hangs up does not free its turn early.
            drop(admitted);
        });
        self.jobs
            .send(job)
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("hashing threads are gone")))?;
        result
            .await
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("a hashing job was dropped")))
    }

    /// The PHC string of an argon2id hash of `password` with a fresh salt,
    /// computed on `client`'s turn.
    pub async fn hash(&self, client: Option<IpAddr>, password: String) -> Result<String, ApiError> {
        self.run(client, move |memory| hash_with(memory, &password))
            .await?
            .map_err(ApiError::Internal)
    }

    /// Whether `password` matches `hash`, checked on `client`'s turn; with no
    /// hash (unknown user) it checks against a dummy so that the answer takes
    /// as long, and says no.
    pub async fn verify(
        &self,
        client: Option<IpAddr>,
        password: String,
        hash: Option<String>,
    ) -> Result<bool, ApiError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy.as_ref().clone());
        let matches = self
            .run(client, move |memory| verify_with(memory, &password, &hash))
            .await?;
        Ok(known && matches)
    }
}

/// Turns at the hashing threads per client address (see the module's doc).
pub struct Admission {
    /// Hashes of one address queued or running at once.
    per_address: usize,
    /// Hashes of one address waiting for a turn before it gets a 429.
    waiting: usize,
    addresses: Mutex<HashMap<String, Turns>>,
}

/// One address's turns: a permit per hash at the threads, and how many of
/// its requests hold or await one (the entry goes when that is 0).
struct Turns {
    permits: Arc<tokio::sync::Semaphore>,
    holders: usize,
}

/// A hash's turn, and its place in its address's count; both end when dropped.
struct Admitted {
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
    _place: Place,
}

struct Place {
    admission: Arc<Admission>,
    key: String,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut addresses = self.admission.lock();
        if let Some(turns) = addresses.get_mut(&self.key) {
            turns.holders -= 1;
            if turns.holders == 0 {
                addresses.remove(&self.key);
            }
        }
    }
}

/// How addresses are told apart: an IPv4 address whole, an IPv6 one by its
/// /64; no address (an in-process request) is one client.
pub fn address_key(client: Option<IpAddr>) -> String {
    match client {
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        Some(ip) => ip.to_string(),
        None => "unknown".to_owned(),
    }
}

impl Admission {
    /// At most `per_address` hashes of an address at the threads, `waiting` more waiting.
    pub fn new(per_address: usize, waiting: usize) -> Self {
        Self {
            per_address: per_address.max(1),
            waiting,
            addresses: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Turns>> {
        self.addresses.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for `client`'s turn; a 429 at once when too many of its hashes wait already.
    async fn admit(self: &Arc<Self>, client: Option<IpAddr>) -> Result<Admitted, ApiError> {
        let key = address_key(client);
        let permits = {
            let mut addresses = self.lock();
            let turns = addresses.entry(key.clone()).or_insert_with(|| Turns {
                permits: Arc::new(tokio::sync::Semaphore::new(self.per_address)),
                holders: 0,
            });
            if turns.holders >= self.per_address + self.waiting {
                return Err(ApiError::TooManyRequests { retry_after: 1 });
            }
            turns.holders += 1;
            turns.permits.clone()
        };
        // Counted from here: dropped while waiting, it leaves its place.
        let place = Place {
            admission: self.clone(),
            key,
        };
        // The semaphore is never closed; `None` cannot happen but would only
        // mean no bound, never a hang.
        let permit = permits.acquire_owned().await.ok();
        Ok(Admitted {
            _permit: permit,
            _place: place,
        })
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
    fn ipv6_addresses_are_told_apart_by_their_64_prefix() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(address_key(ip("203.0.113.9")), "203.0.113.9");
        assert_eq!(address_key(ip("::ffff:203.0.113.9")), "203.0.113.9");
        assert_eq!(
            address_key(ip("2001:db8:1:2:aaaa::1")),
            address_key(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            address_key(ip("2001:db8:1:2::1")),
            address_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(address_key(None), "unknown");
    }

    #[tokio::test]
    async fn an_address_waits_its_turn_and_past_the_waiting_bound_gets_a_429() {
        let admission = Arc::new(Admission::new(1, 1));
        let me = Some(IpAddr::from([192, 0, 2, 1]));
        let first = admission.admit(me).await.unwrap();
        let second = tokio::spawn({
            let admission = admission.clone();
            async move { admission.admit(me).await.map(drop) }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!second.is_finished(), "the second waits for the first");
        assert!(matches!(
            admission.admit(me).await,
            Err(ApiError::TooManyRequests { .. })
        ));
        // Another address is not held up.
        let other = admission.admit(Some(IpAddr::from([192, 0, 2, 2]))).await;
        assert!(other.is_ok());
        drop(first);
        second.await.unwrap().unwrap();
        drop(other);
        assert!(admission.lock().is_empty(), "idle addresses are forgotten");
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
