//! The page cache: the serialized answers of `GET /api/products` and
//! `GET /api/product/{id_or_slug}`, with their ETags, kept for
//! `CATALOGUE_CACHE_MS` (when they may be used is `Catalogue`'s story).
//!
//! Keys are built from what the routes parsed, never from the raw query, so
//! equivalent requests share an entry. Past the bound in bytes the least
//! recently used answers go, so a crawler walking every page or search pushes
//! out its own answers, not the page every visitor opens. An unknown id or
//! slug is kept too, as a 404, so a flood of misses reads the database once
//! per key and time bound. One request per key fills an expired answer while
//! the others wait for it (`server::KeyedTurns`).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use server::{KeyedTurns, Turn};

use crate::etag::Tagged;

/// Bytes of answers kept at most (a crawler paging through every search, or
/// visitors each searching something else, cannot grow it without bound):
/// past it the least recently used answers go.
const MAX_BYTES: usize = 4 << 20;

/// What an answer costs beyond its key, body and ETag: the entry, its place
/// in the order of use and its share of the tables (an answer of one product
/// is about 400 bytes, so counting only the bodies let the memory held grow
/// to twice the bound).
const ENTRY_OVERHEAD: usize = 200;

/// What is kept for a key.
#[derive(Debug, Clone)]
pub enum Kept {
    /// A 200 with this body.
    Found(Tagged),
    /// A 404: no product has this id or slug (not a hidden one: an admin may
    /// see that, so it is never kept).
    Missing,
}

impl Kept {
    /// Bytes of the answer and its ETag.
    fn len(&self) -> usize {
        match self {
            Self::Found(answer) => answer.bytes.len() + answer.etag.len(),
            Self::Missing => 0,
        }
    }
}

#[derive(Debug)]
pub struct PageCache {
    ttl: Duration,
    /// Bumped by every change this process makes: older entries are dead.
    generation: AtomicU64,
    entries: Mutex<Entries>,
    /// One request per key fills an expired answer; the others wait for it
    /// instead of all reading the database at once.
    fills: KeyedTurns<String>,
    counts: Arc<Counts>,
}

/// Shoppers' reads answered from memory, and those that read the database
/// (a miss, a fill after expiry, a read past the cache).
#[derive(Debug, Default)]
pub struct Counts {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Counts {
    /// For `/metrics`: `products_cache_requests_total` by result.
    pub fn render(&self) -> String {
        let mut out = String::new();
        server::metrics::write_counter(
            &mut out,
            "products_cache_requests_total",
            "Shoppers' catalogue reads, answered from the page cache (hit) or the database (miss).",
            "result",
            [
                ("hit", self.hits.load(Ordering::Relaxed)),
                ("miss", self.misses.load(Ordering::Relaxed)),
            ],
        );
        out
    }
}

/// The answers held, and the order they were last used in.
#[derive(Debug, Default)]
struct Entries {
    by_key: HashMap<Arc<str>, Entry>,
    /// Each key under its entry's last use, least recent first.
    by_use: BTreeMap<u64, Arc<str>>,
    /// The last use handed out.
    clock: u64,
    /// Of the keys and answers held.
    bytes: usize,
}

impl Entries {
    /// What keeping `kept` under a key of `key_len` bytes counts against
    /// [`MAX_BYTES`].
    fn size(key_len: usize, kept: &Kept) -> usize {
        key_len + kept.len() + ENTRY_OVERHEAD
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// The answer under `key` if `usable` accepts its entry, which then
    /// counts as the most recently used; one it refuses is dropped.
    fn get(&mut self, key: &str, usable: impl Fn(&Entry) -> bool) -> Option<Kept> {
        if !usable(self.by_key.get(key)?) {
            self.remove(key);
            return None;
        }
        let now = self.tick();
        let entry = self.by_key.get_mut(key)?;
        let before = std::mem::replace(&mut entry.used, now);
        if let Some(key) = self.by_use.remove(&before) {
            self.by_use.insert(now, key);
        }
        Some(entry.kept.clone())
    }

    /// Keeps `kept` under `key` as the most recently used, in place of any
    /// answer it had, the least recently used others going while they do not
    /// fit. An answer larger than the whole bound is not kept.
    fn insert(&mut self, key: &str, stored: Instant, generation: u64, kept: Kept) {
        self.remove(key);
        let size = Self::size(key.len(), &kept);
        if size > MAX_BYTES {
            return;
        }
        while self.bytes + size > MAX_BYTES {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            if let Some(gone) = self.by_key.remove(&oldest) {
                self.bytes -= Self::size(oldest.len(), &gone.kept);
            }
        }
        let used = self.tick();
        let key: Arc<str> = Arc::from(key);
        self.by_use.insert(used, key.clone());
        self.bytes += size;
        let entry = Entry {
            stored,
            generation,
            used,
            kept,
        };
        self.by_key.insert(key, entry);
    }

    fn remove(&mut self, key: &str) {
        if let Some((key, gone)) = self.by_key.remove_entry(key) {
            self.by_use.remove(&gone.used);
            self.bytes -= Self::size(key.len(), &gone.kept);
        }
    }
}

#[derive(Debug)]
struct Entry {
    stored: Instant,
    generation: u64,
    /// When it was last used, as [`Entries::clock`] counts.
    used: u64,
    kept: Kept,
}

impl PageCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            entries: Mutex::default(),
            fills: KeyedTurns::default(),
            counts: Arc::default(),
        }
    }

    /// Its hit and miss counters.
    pub fn counts(&self) -> Arc<Counts> {
        self.counts.clone()
    }

    /// The answer kept for `key`, unless it is too old, a change of this
    /// process came after it, or the request reads `fresh`.
    fn get(&self, key: &str, fresh: bool) -> Option<Kept> {
        if self.ttl.is_zero() || fresh {
            return None;
        }
        let generation = self.generation.load(Ordering::Acquire);
        let ttl = self.ttl;
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(key, |e| {
            e.generation == generation && e.stored.elapsed() < ttl
        })
    }

    /// The answer kept for `key`; or else this request's turn to read it and
    /// [`put`](Self::put) it (`None`: the cache is off for this request, read
    /// without waiting). One request per key fills at a time: those that miss
    /// while it reads wait for their turn and then find its answer, so an
    /// answer's expiry costs one database read, not one per visitor waiting.
    pub async fn get_or_turn(&self, key: &str, fresh: bool) -> Result<Kept, Option<Turn<String>>> {
        let found = self.get_or_turn_uncounted(key, fresh).await;
        let counter = match found {
            Ok(_) => &self.counts.hits,
            Err(_) => &self.counts.misses,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    async fn get_or_turn_uncounted(
        &self,
        key: &str,
        fresh: bool,
    ) -> Result<Kept, Option<Turn<String>>> {
        if let Some(kept) = self.get(key, fresh) {
            return Ok(kept);
        }
        if self.ttl.is_zero() || fresh {
            return Err(None);
        }
        let turn = self.fills.exclusive(key.to_owned()).await;
        self.get(key, fresh).ok_or(Some(turn))
    }

    /// Keeps `kept` for `key`. `generation` is [`PageCache::generation`]
    /// read before the database was: an answer read across a change is not kept.
    pub fn put(&self, key: &str, generation: u64, kept: Kept) {
        if self.ttl.is_zero() || generation != self.generation.load(Ordering::Acquire) {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.insert(key, Instant::now(), generation, kept);
    }

    /// The current generation, to pass to [`PageCache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Forgets everything: this process changed the catalogue or its stock.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        *self.entries.lock().unwrap_or_else(|p| p.into_inner()) = Entries::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> Kept {
        Kept::Found(Tagged::of(&text).unwrap())
    }

    fn body(kept: Option<Kept>) -> Option<String> {
        match kept? {
            Kept::Found(answer) => Some(String::from_utf8(answer.bytes.to_vec()).unwrap()),
            Kept::Missing => Some("404".into()),
        }
    }

    fn held(cache: &PageCache) -> usize {
        cache.entries.lock().unwrap().by_key.len()
    }

    fn bytes(cache: &PageCache) -> usize {
        cache.entries.lock().unwrap().bytes
    }

    #[test]
    fn kept_until_changed_or_old() {
        let cache = PageCache::new(Duration::from_millis(50));
        cache.put("k", cache.generation(), answer("a"));
        assert_eq!(body(cache.get("k", false)).unwrap(), "\"a\"");
        cache.invalidate();
        assert!(cache.get("k", false).is_none(), "a change forgets it");
        cache.put("k", cache.generation(), answer("b"));
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get("k", false).is_none(), "too old");
        assert_eq!((held(&cache), bytes(&cache)), (0, 0), "and dropped");
    }

    #[test]
    fn an_answer_read_across_a_change_is_not_kept() {
        let cache = PageCache::new(Duration::from_secs(5));
        let before = cache.generation();
        cache.invalidate();
        cache.put("k", before, answer("stale"));
        assert!(cache.get("k", false).is_none());
    }

    #[test]
    fn a_missing_product_is_kept_as_a_404() {
        let cache = PageCache::new(Duration::from_secs(5));
        cache.put("id|99", cache.generation(), Kept::Missing);
        assert_eq!(body(cache.get("id|99", false)).unwrap(), "404");
        assert_eq!(bytes(&cache), Entries::size(5, &Kept::Missing));
        assert!(cache.get("id|99", true).is_none(), "a fresh read reads");
        cache.invalidate();
        assert!(cache.get("id|99", false).is_none(), "a change forgets it");
    }

    #[tokio::test]
    async fn one_request_fills_a_missing_answer_and_the_others_take_it() {
        let cache = std::sync::Arc::new(PageCache::new(Duration::from_secs(5)));
        let Err(Some(turn)) = cache.get_or_turn("k", false).await else {
            panic!("the first miss fills");
        };
        let waiting = tokio::spawn({
            let cache = cache.clone();
            async move { cache.get_or_turn("k", false).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "the second miss waits for the fill");
        cache.put("k", cache.generation(), answer("a"));
        drop(turn);
        let Ok(kept) = waiting.await.unwrap() else {
            panic!("the second miss takes the first one's answer");
        };
        assert_eq!(body(Some(kept)).unwrap(), "\"a\"");
        assert!(matches!(cache.get_or_turn("k", true).await, Err(None)));
    }

    #[test]
    fn bounded_in_bytes_the_least_recently_used_going_first() {
        let cache = PageCache::new(Duration::from_secs(60));
        let big = answer(&"x".repeat(MAX_BYTES / 4));
        let size = Entries::size(1, &big);
        for key in ["a", "b", "c"] {
            cache.put(key, cache.generation(), big.clone());
        }
        cache.put("a", cache.generation(), big.clone());
        assert_eq!(held(&cache), 3, "replacing an answer counts it once");
        assert_eq!(bytes(&cache), 3 * size);
        // Used since: "b" is now the least recently used.
        assert!(cache.get("a", false).is_some());
        // A fourth would pass the bound: "b" goes, the rest stay.
        cache.put("d", cache.generation(), big.clone());
        assert_eq!(held(&cache), 3);
        assert!(cache.get("b", false).is_none());
        for key in ["a", "c", "d"] {
            assert!(cache.get(key, false).is_some(), "{key} kept");
        }
        assert_eq!(bytes(&cache), 3 * size, "counted alike kept and dropped");
        // Many small answers push out one big one at a time, oldest first.
        for n in 0..5000 {
            cache.put(&format!("small{n}"), cache.generation(), answer("s"));
        }
        assert!(cache.get("a", false).is_none(), "the oldest went");
        assert!(cache.get("c", false).is_some() && cache.get("d", false).is_some());
        assert!(bytes(&cache) <= MAX_BYTES);
        let entries = cache.entries.lock().unwrap();
        assert_eq!(entries.by_use.len(), entries.by_key.len());
        let recount: usize = entries
            .by_key
            .iter()
            .map(|(k, e)| Entries::size(k.len(), &e.kept))
            .sum();
        assert_eq!(entries.bytes, recount);
    }

    #[test]
    fn an_answer_larger_than_the_bound_is_not_kept() {
        let cache = PageCache::new(Duration::from_secs(60));
        cache.put("a", cache.generation(), answer("a"));
        cache.put("huge", cache.generation(), answer(&"x".repeat(MAX_BYTES)));
        assert!(cache.get("huge", false).is_none());
        assert!(cache.get("a", false).is_some(), "and pushes nothing out");
    }

    #[test]
    fn off_keeps_nothing() {
        let cache = PageCache::new(Duration::ZERO);
        cache.put("k", cache.generation(), answer("a"));
        assert!(cache.get("k", false).is_none());
    }
}
