//! Keys claimed in the transaction that does the work (for the orders
//! service's cart changes: in the group commit's batch), so that a keyed
//! request costs two statements of a commit it shares rather than two
//! commits of its own.
//!
//! The middleware reads nothing first: it hands the handler a [`TxKey`], and
//! the key is judged where the request's work is. The transaction, once it
//! holds the locks that serialize its callers' work (the cart locks),
//! [`claim`]s the keys of its requests: a key already answered is replayed
//! from the stored answer, one used with another request is a 422, one over
//! its caller's cap a 429; the others do their work, and [`keep`] writes each
//! kept answer with its claim before the one commit. A transaction that
//! fails leaves no claim.
//!
//! A request that has not reached its transaction after
//! [`EARLY_CLAIM_AFTER`] (a slow call to another service) claims its key as
//! the other routes do, with a commit of its own, so that a duplicate on any
//! replica gets 409 `request_in_progress` at once; its transaction then
//! finds the claim its own and answers it. Before that, a duplicate on
//! another replica does its own lookups and meets the first in the
//! transaction: the cart lock orders the two, and the second is answered the
//! first's kept answer.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::QueryResult;

use super::store::{self, Answered, Claim, Claimant, Kept, KeyStore};
use super::{Held, KEEP_FOR};
use crate::db::Db;
use crate::error::ApiResult;

/// How long a request whose key its transaction claims runs before it
/// claims the key on its own anyway (see the module).
pub const EARLY_CLAIM_AFTER: Duration = Duration::from_millis(200);

/// A request's `Idempotency-Key`, to be claimed in the transaction that does
/// its work; a request extension on the routes that take their key so
/// ([`super::Idempotency::in_transaction`]). Cheap to clone.
#[derive(Clone)]
pub struct TxKey(Arc<Inner>);

struct Inner {
    caller: String,
    key: String,
    owner: String,
    cap: i64,
    print: Vec<u8>,
    abandoned_after: Duration,
    phase: tokio::sync::Mutex<Phase>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not in a transaction yet, nothing written.
    Waiting,
    /// Claimed on its own (the claim made at this time), not in a transaction yet.
    Early(NaiveDateTime),
    /// Its transaction has it (with the early claim's time, if any): no early claim now.
    Working(Option<NaiveDateTime>),
    /// Answered from the early claim (a replay, a 409...): nothing to do.
    Settled,
}

/// What a request's early claim came to.
pub(super) enum Early {
    /// It is in its transaction already: no claim needed.
    NotNeeded,
    /// Claimed: the claim, released if the request is dropped.
    Claimed(Held),
    /// The key answers the request without the work (replay, 409, 422, 429).
    Settled(Claim),
}

impl TxKey {
    pub(super) fn new(who: &Claimant<'_>, print: Vec<u8>, abandoned_after: Duration) -> Self {
        Self(Arc::new(Inner {
            caller: who.caller.to_owned(),
            key: who.key.to_owned(),
            owner: who.owner.to_owned(),
            cap: who.cap,
            print,
            abandoned_after,
            phase: tokio::sync::Mutex::new(Phase::Waiting),
        }))
    }

    fn claimant(&self) -> Claimant<'_> {
        Claimant {
            caller: &self.0.caller,
            key: &self.0.key,
            owner: &self.0.owner,
            cap: self.0.cap,
        }
    }

    /// Claims the key with a commit of its own, unless the transaction has
    /// it already. The phase stays locked while the claim is written, so the
    /// transaction either sees the claim or makes none happen.
    pub(super) async fn claim_early(&self, db: &Db) -> ApiResult<Early> {
        let mut phase = self.0.phase.lock().await;
        if *phase != Phase::Waiting {
            return Ok(Early::NotNeeded);
        }
        let who = self.claimant();
        match Held::claim(db, &who, &self.0.print, self.0.abandoned_after).await {
            Ok(Ok(held)) => match store::full(db, &who, 1).await {
                Ok(None) => {
                    *phase = Phase::Early(held.at);
                    Ok(Early::Claimed(held))
                }
                other => {
                    // Over the cap (or unknown): gone before the answer.
                    *phase = Phase::Settled;
                    held.release().await;
                    let retry_after = other?.unwrap_or(1);
                    Ok(Early::Settled(Claim::Full { retry_after }))
                }
            },
            Ok(Err(claim)) => {
                *phase = Phase::Settled;
                Ok(Early::Settled(claim))
            }
            Err(e) => {
                *phase = Phase::Settled;
                Err(e)
            }
        }
    }

    /// What the key answers a request its handler answered without a
    /// transaction or an early claim having had the key (a replay, a reused
    /// key, a duplicate still running), read now; `None` when the key was
    /// judged already or holds nothing live.
    pub(super) async fn judge_late(&self, db: &Db) -> ApiResult<Option<Claim>> {
        if *self.0.phase.lock().await != Phase::Waiting {
            return Ok(None);
        }
        store::look(db, &self.claimant(), &self.0.print, self.0.abandoned_after).await
    }

    /// Called by the transaction's owner before it begins: the key as the
    /// transaction claims it, or `None` when the request was answered
    /// already (by its early claim) and its work must not be done.
    pub async fn enter(&self) -> Option<Entered> {
        let mut phase = self.0.phase.lock().await;
        let early = match *phase {
            Phase::Waiting => None,
            Phase::Early(at) => Some(at),
            Phase::Working(early) => early,
            Phase::Settled => return None,
        };
        *phase = Phase::Working(early);
        Some(Entered {
            key: self.clone(),
            early,
            claim: None,
        })
    }
}

/// A key its transaction claims; see [`claim`] and [`keep`].
pub struct Entered {
    key: TxKey,
    early: Option<NaiveDateTime>,
    /// Set by [`claim`] when the request does its work: the key's row is to
    /// be written (`None`) or is its early claim made at this time.
    claim: Option<Option<NaiveDateTime>>,
}

/// What the key answers a request without its work being done.
#[derive(Debug, Clone)]
pub enum Settled {
    /// The first request's kept answer, replayed.
    Replay(Kept),
    /// 422 `idempotency_key_reused`.
    Reused,
    /// 409 `request_in_progress` with `Retry-After: 1`.
    Running,
    /// 429: the caller holds its cap of live keys.
    Full { retry_after: u64 },
}

impl Settled {
    fn of(claim: Claim) -> Option<Self> {
        match claim {
            Claim::Mine(_) => None,
            Claim::Reused => Some(Self::Reused),
            Claim::Running => Some(Self::Running),
            Claim::Answered(kept) => Some(Self::Replay(kept)),
            Claim::Full { retry_after } => Some(Self::Full { retry_after }),
        }
    }
}

impl axum::response::IntoResponse for Settled {
    fn into_response(self) -> axum::response::Response {
        super::settled(match self {
            Self::Replay(kept) => Claim::Answered(kept),
            Self::Reused => Claim::Reused,
            Self::Running => Claim::Running,
            Self::Full { retry_after } => Claim::Full { retry_after },
        })
    }
}

/// Claims the keys of a transaction's requests, in their order (`None`: a
/// request without a key), after the transaction took the locks that order
/// its callers' work. One outcome per request: `None` when it does its work
/// (its answer then goes to [`keep`]), else what answers it instead. Reads
/// the keys and their owners' bounds in one statement (an owner's keys are
/// counted only when its bound nears the cap); a row past its day or
/// abandoned is taken over. The same key
/// twice in one transaction: the second is `Running` (or `Reused`).
pub async fn claim<C: KeyStore + Send>(
    conn: &mut C,
    keys: &mut [Option<Entered>],
) -> QueryResult<Vec<Option<Settled>>> {
    let mut outcomes: Vec<Option<Settled>> = vec![None; keys.len()];
    let present: Vec<&Entered> = keys.iter().flatten().collect();
    if present.is_empty() {
        return Ok(outcomes);
    }
    let callers = present.iter().map(|e| e.key.0.caller.clone()).collect();
    let names = present.iter().map(|e| e.key.0.key.clone()).collect();
    // Every owner's bound, read with the keys: most keys are new claims.
    let mut owners: Vec<String> = present.iter().map(|e| e.key.0.owner.clone()).collect();
    owners.sort_unstable();
    owners.dedup();
    let since = store::now() - chrono::Duration::from_std(KEEP_FOR).unwrap_or_default();
    let (rows, bounds) = conn.read_keys(callers, names, owners, since).await?;
    let mut rows: std::collections::HashMap<(String, String), store::KeyRow> = rows
        .into_iter()
        .map(|row| ((row.caller.clone(), row.key.clone()), row))
        .collect();
    let mut live: std::collections::HashMap<String, i64> = bounds.into_iter().collect();
    let mut seen: std::collections::HashMap<(String, String), Vec<u8>> = Default::default();
    // The new claims, by owner: counted against the cap below.
    let mut new: Vec<(String, usize)> = Vec::new();
    for (i, entered) in keys.iter_mut().enumerate() {
        let Some(entered) = entered else { continue };
        entered.claim = None;
        let inner = &entered.key.0;
        let name = (inner.caller.clone(), inner.key.clone());
        if let Some(print) = seen.get(&name) {
            outcomes[i] = Some(if *print == inner.print {
                Settled::Running
            } else {
                Settled::Reused
            });
            continue;
        }
        seen.insert(name.clone(), inner.print.clone());
        match rows.remove(&name) {
            Some(row) if row.status.is_none() && Some(row.created_at) == entered.early => {
                entered.claim = Some(entered.early);
            }
            Some(row) => {
                let created_at = row.created_at;
                match row.judge(&inner.print, inner.abandoned_after) {
                    Some(claim) => outcomes[i] = Settled::of(claim),
                    None => {
                        conn.drop_key(name.0, name.1, created_at).await?;
                        new.push((inner.owner.clone(), i));
                    }
                }
            }
            None => new.push((inner.owner.clone(), i)),
        }
    }
    if !new.is_empty() {
        let mut owners: Vec<String> = new.iter().map(|(owner, _)| owner.clone()).collect();
        owners.sort_unstable();
        owners.dedup();
        // Each owner's bound (its hours: a few rows) came with the keys;
        // only an owner the bound puts within reach of its cap has its keys
        // counted.
        let close: Vec<String> = owners
            .into_iter()
            .filter(|owner| {
                let mine = new.iter().filter(|(o, _)| o == owner);
                let claims = i64::try_from(mine.clone().count()).unwrap_or(i64::MAX);
                let cap = mine
                    .filter_map(|(_, i)| keys[*i].as_ref())
                    .map(|entered| entered.key.0.cap)
                    .min()
                    .unwrap_or(0);
                live.get(owner).copied().unwrap_or(0).saturating_add(claims) >= cap
            })
            .collect();
        if !close.is_empty() {
            for owner in &close {
                live.insert(owner.clone(), 0);
            }
            live.extend(conn.live_keys(close, since).await?);
        }
        for (owner, i) in new {
            let Some(entered) = keys[i].as_mut() else {
                continue;
            };
            let count = live.entry(owner.clone()).or_default();
            if *count >= entered.key.0.cap {
                let oldest = conn.oldest_key(owner, since).await?;
                outcomes[i] = Some(Settled::Full {
                    retry_after: store::frees_in(oldest),
                });
            } else {
                *count += 1;
                entered.claim = Some(None);
            }
        }
    }
    Ok(outcomes)
}

/// Writes the kept answers of requests whose keys [`claim`] let work, in the
/// same transaction (a request whose answer is not kept needs nothing: it
/// made no row, and its early claim is released after it answered). False
/// when a key was claimed by another request meanwhile (a route claiming
/// outside a transaction, between [`claim`] and now): the caller rolls back
/// and runs the transaction again.
pub async fn keep<C: KeyStore + Send>(
    conn: &mut C,
    answers: Vec<(&Entered, Kept)>,
) -> QueryResult<bool> {
    let mut new = Vec::new();
    for (entered, kept) in answers {
        let inner = &entered.key.0;
        let headers = serde_json::to_string(&kept.headers).unwrap_or_default();
        let status = i32::from(kept.status);
        match entered.claim {
            None => continue,
            Some(Some(at)) => {
                let answered = conn
                    .answer_claim(
                        inner.caller.clone(),
                        inner.key.clone(),
                        at,
                        status,
                        kept.body,
                        headers,
                    )
                    .await?;
                if answered == 0 {
                    return Ok(false);
                }
            }
            Some(None) => new.push(Answered {
                caller: inner.caller.clone(),
                key: inner.key.clone(),
                fingerprint: inner.print.clone(),
                status,
                body: kept.body,
                created_at: store::now(),
                owner: inner.owner.clone(),
                headers,
            }),
        }
    }
    if new.is_empty() {
        return Ok(true);
    }
    let wanted = new.len();
    Ok(conn.add_answered(new).await? == wanted)
}
