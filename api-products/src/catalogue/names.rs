//! Search and paging from memory: each replica keeps every product's id,
//! lowercase name and `hidden` flag ([`Names`]), about 45 bytes a product,
//! and answers "which ids are on this page, and how many match" without the
//! database; only the page's rows are then read, by primary key. A search
//! is one scan of the names with `memchr`'s substring finder (about 0.3 ms
//! for 100,000 names), so a broad term, a narrow one and page 2,000 cost
//! the same as the first page of a small shop.
//!
//! The names are reloaded when the catalogue's revision changes, a row that
//! triggers bump with every insert, delete and change of a name or of
//! `hidden` (not stock). A replica checks it at most every
//! [`CHECK_EVERY`] (or on every read when the page cache is off), and at
//! once after a change it made itself, so a new product is found on the
//! replica that added it at once and on every other within the page cache's
//! second. While one request reloads, the others answer from the names they
//! have, unless this replica's own change made them stale.
//!
//! `CATALOGUE_INDEX_MAX` (default 500,000) bounds the memory: a larger
//! catalogue, or 0, is searched by the database's trigram indexes instead
//! (`queries::list`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use memchr::memmem;
use server::{ApiResult, Db, Page};

use crate::db::queries;

/// How long a replica trusts the names it has before it checks the revision.
pub const CHECK_EVERY: Duration = Duration::from_millis(100);

/// Products kept in memory at most, unless `CATALOGUE_INDEX_MAX` says
/// otherwise: about 23 MB, twice that while a reload replaces them.
const DEFAULT_MAX: usize = 500_000;

/// Names read from the database per query while loading.
const LOAD_BATCH: i64 = 20_000;

/// Every product's id, lowercase name and `hidden`, by id.
#[derive(Debug, Default)]
pub struct Names {
    ids: Vec<i64>,
    hidden: Vec<bool>,
    /// Positions (in `ids`) of the products shoppers see.
    visible: Vec<u32>,
    /// The names, each followed by a newline: name `i` starts at `starts[i]`
    /// and ends before the newline that precedes the next one's start.
    keys: String,
    starts: Vec<u32>,
}

impl Names {
    /// From `(id, name_key, hidden)` rows in id order.
    #[cfg(test)]
    fn new(rows: Vec<(i64, String, bool)>) -> Self {
        let mut names = Self::default();
        for (id, key, hidden) in rows {
            names.push(id, &key, hidden);
        }
        names
    }

    /// Adds a product after those held (ids ascending).
    fn push(&mut self, id: i64, key: &str, hidden: bool) {
        if !hidden {
            self.visible.push(self.ids.len() as u32);
        }
        self.ids.push(id);
        self.hidden.push(hidden);
        self.starts.push(self.keys.len() as u32);
        self.keys.push_str(key);
        self.keys.push('\n');
    }

    /// Reads every product's name, a batch of [`LOAD_BATCH`] at a time, so
    /// that loading takes little more memory than the names themselves.
    async fn load(db: &Db, size: usize) -> ApiResult<Self> {
        // Sized at once: grown by doubling, the peak was twice the names.
        let mut names = Self {
            ids: Vec::with_capacity(size),
            hidden: Vec::with_capacity(size),
            visible: Vec::with_capacity(size),
            starts: Vec::with_capacity(size),
            keys: String::with_capacity(size * 24),
        };
        let mut after = i64::MIN;
        loop {
            let batch = queries::names_after(db, after, LOAD_BATCH).await?;
            for (id, key, hidden) in &batch {
                names.push(*id, key, *hidden);
            }
            match batch.last() {
                Some((last, _, _)) if batch.len() as i64 == LOAD_BATCH => after = *last,
                _ => break,
            }
        }
        names.ids.shrink_to_fit();
        names.hidden.shrink_to_fit();
        names.visible.shrink_to_fit();
        names.keys.shrink_to_fit();
        names.starts.shrink_to_fit();
        Ok(names)
    }

    /// The ids on `page` of the products whose lowercase names contain `term`
    /// (all of them without one), hidden ones only with `include_hidden`,
    /// and how many match in all.
    pub fn page(&self, term: Option<&str>, include_hidden: bool, page: Page) -> (Vec<i64>, i64) {
        let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(page.limit).unwrap_or(0);
        let Some(term) = term else {
            let (ids, total) = if include_hidden {
                let slice = self.ids.iter().skip(offset).take(limit);
                (slice.copied().collect(), self.ids.len())
            } else {
                let slice = self.visible.iter().skip(offset).take(limit);
                (
                    slice.map(|&at| self.ids[at as usize]).collect(),
                    self.visible.len(),
                )
            };
            return (ids, total as i64);
        };
        let mut ids = Vec::new();
        let mut total = 0usize;
        for at in self.containing(term) {
            if include_hidden || !self.hidden[at] {
                if total >= offset && ids.len() < limit {
                    ids.push(self.ids[at]);
                }
                total += 1;
            }
        }
        (ids, total as i64)
    }

    /// Positions of the names containing `term`, in id order, each once.
    fn containing<'a>(&'a self, term: &'a str) -> impl Iterator<Item = usize> + 'a {
        let finder = memmem::Finder::new(term.as_bytes());
        let haystack = self.keys.as_bytes();
        let mut from = 0;
        let mut at = 0;
        std::iter::from_fn(move || {
            while let Some(found) = finder.find(&haystack[from..]) {
                let found = from + found;
                at = self.name_at(found, at);
                let next = self.start(at + 1).unwrap_or(haystack.len());
                if found + term.len() < next {
                    from = next;
                    return Some(at);
                }
                // It runs on into the next name: look again from the next byte.
                from = found + 1;
            }
            None
        })
    }

    /// Where name `at` starts in `keys`, if there is one.
    fn start(&self, at: usize) -> Option<usize> {
        self.starts.get(at).map(|&s| s as usize)
    }

    /// The name byte `byte` of `keys` is in, knowing it is name `from` or a
    /// later one: a galloping search, since matches come in order and are
    /// mostly a few names apart (a binary search over all names, from
    /// scratch, was most of a broad term's cost).
    fn name_at(&self, byte: usize, from: usize) -> usize {
        let starts_after = |at: usize| self.start(at).is_some_and(|s| s > byte);
        let (mut low, mut step) = (from, 1);
        while !starts_after(low + step) && low + step < self.starts.len() {
            low += step;
            step *= 2;
        }
        let high = (low + step).min(self.starts.len());
        low + self.starts[low..high].partition_point(|&s| s as usize <= byte) - 1
    }
}

/// The names this replica searches, kept current (see the module's text).
#[derive(Debug)]
pub struct CatalogueIndex {
    max: usize,
    check_every: Duration,
    held: Mutex<Held>,
    /// One request at a time checks and reloads.
    reload: tokio::sync::Mutex<()>,
    /// This replica changed the catalogue: the names must be checked first.
    stale: AtomicBool,
}

#[derive(Debug, Default)]
struct Held {
    /// The revision last read, and when.
    checked: Option<(i64, Instant)>,
    /// `None` at that revision: too many products, the database searches.
    names: Option<Arc<Names>>,
}

impl CatalogueIndex {
    /// Keeps at most `max` products (0: never, the database searches) and
    /// trusts them for `check_every` between two checks of the revision.
    pub fn new(max: usize, check_every: Duration) -> Self {
        Self {
            max,
            check_every,
            held: Mutex::default(),
            reload: tokio::sync::Mutex::new(()),
            stale: AtomicBool::new(false),
        }
    }

    /// `CATALOGUE_INDEX_MAX` (default 500,000); checked every
    /// [`CHECK_EVERY`], or on every read when `cache_ttl` (the page cache's)
    /// is shorter.
    pub fn from_vars(
        vars: &dyn Fn(&str) -> Option<String>,
        cache_ttl: Duration,
    ) -> anyhow::Result<Self> {
        let max = match vars("CATALOGUE_INDEX_MAX") {
            Some(v) if !v.trim().is_empty() => v.trim().parse::<usize>().map_err(|_| {
                anyhow::anyhow!("CATALOGUE_INDEX_MAX must be a whole number of products")
            })?,
            _ => DEFAULT_MAX,
        };
        Ok(Self::new(max, CHECK_EVERY.min(cache_ttl)))
    }

    /// Loads the names in the background, so that the first visitors after
    /// a start do not wait for them (about 100 ms at 100,000 products).
    pub fn warm(self: &Arc<Self>, db: &Db) {
        let (index, db) = (self.clone(), db.clone());
        tokio::spawn(async move {
            if let Err(e) = index.names(&db, false).await {
                tracing::warn!(error = %e, "loading the names for search; the first search will try again");
            }
        });
    }

    /// This replica changed the catalogue: the next read checks the revision
    /// and waits for the reload.
    pub fn invalidate(&self) {
        self.stale.store(true, Ordering::Release);
    }

    /// The names to search, current as the module's text says, or `None`:
    /// let the database search. `fresh`: the client asked for a fresh
    /// answer (`Cache-Control: no-cache`), check the revision now.
    pub async fn names(&self, db: &Db, fresh: bool) -> ApiResult<Option<Arc<Names>>> {
        if self.max == 0 {
            return Ok(None);
        }
        if !fresh {
            if let Some(names) = self.trusted() {
                return Ok(names);
            }
        }
        let _reloading = match self.reload.try_lock() {
            Ok(turn) => turn,
            Err(_) => {
                // Another request is checking: answer from what is held, but
                // after a change of this replica's own, or before the first
                // load, wait for it.
                if !fresh && !self.stale.load(Ordering::Acquire) {
                    if let Some(names) = self.held_names() {
                        return Ok(names);
                    }
                }
                self.reload.lock().await
            }
        };
        if !fresh {
            if let Some(names) = self.trusted() {
                return Ok(names);
            }
        }
        // Cleared before reading: a change made after this read sets it
        // again; a check that fails leaves it set.
        let was_stale = self.stale.swap(false, Ordering::AcqRel);
        let checked = self.check(db).await;
        if checked.is_err() && was_stale {
            self.stale.store(true, Ordering::Release);
        }
        checked
    }

    /// Reads the revision and, when it changed, the names.
    async fn check(&self, db: &Db) -> ApiResult<Option<Arc<Names>>> {
        let revision = queries::revision(db).await?;
        let unchanged = {
            let mut held = self.lock();
            let same = matches!(held.checked, Some((r, _)) if r == revision);
            if same {
                held.checked = Some((revision, Instant::now()));
            }
            same.then(|| held.names.clone())
        };
        if let Some(names) = unchanged {
            return Ok(names);
        }
        let size = usize::try_from(queries::size(db).await?).unwrap_or(usize::MAX);
        let names = if size > self.max {
            tracing::info!(
                products = size,
                max = self.max,
                "catalogue searched by the database"
            );
            None
        } else {
            let started = Instant::now();
            // Read after the revision: never older than the revision recorded.
            let names = Names::load(db, size).await?;
            tracing::debug!(products = names.ids.len(), revision, took = ?started.elapsed(), "names loaded");
            Some(Arc::new(names))
        };
        let mut held = self.lock();
        held.checked = Some((revision, Instant::now()));
        held.names = names.clone();
        Ok(names)
    }

    /// What is held, if checked within `check_every` and not made stale.
    fn trusted(&self) -> Option<Option<Arc<Names>>> {
        if self.stale.load(Ordering::Acquire) {
            return None;
        }
        let held = self.lock();
        let (_, at) = held.checked?;
        (at.elapsed() < self.check_every).then(|| held.names.clone())
    }

    /// What is held, however old; `None` before the first load.
    fn held_names(&self) -> Option<Option<Arc<Names>>> {
        let held = self.lock();
        held.checked.map(|_| held.names.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(rows: &[(i64, &str, bool)]) -> Names {
        let rows = rows
            .iter()
            .map(|&(id, key, hidden)| (id, key.to_owned(), hidden))
            .collect();
        Names::new(rows)
    }

    fn page(limit: i64, offset: i64) -> Page {
        Page { limit, offset }
    }

    #[test]
    fn finds_names_containing_the_term_in_id_order_each_once() {
        let names = names(&[
            (1, "stoneware mug", false),
            (4, "mug of mugs", false),
            (9, "glass teapot", false),
            (12, "hidden mug", true),
            (15, "100% cotton_towel", false),
        ]);
        assert_eq!(names.page(Some("mug"), false, page(10, 0)), (vec![1, 4], 2));
        assert_eq!(
            names.page(Some("mug"), true, page(10, 0)),
            (vec![1, 4, 12], 3)
        );
        assert_eq!(names.page(Some("mug"), true, page(1, 1)), (vec![4], 3));
        assert_eq!(names.page(Some("mug"), false, page(5, 9)), (vec![], 2));
        assert_eq!(
            names.page(Some("% cotton_"), false, page(5, 0)),
            (vec![15], 1)
        );
        assert_eq!(names.page(Some("zeppelin"), false, page(5, 0)), (vec![], 0));
    }

    #[test]
    fn a_match_never_runs_across_two_names() {
        let names = names(&[(1, "oak", false), (2, "mug", false), (3, "oak\nmug", false)]);
        // "oak\nmug" is in the joined names twice, but is only the third name.
        assert_eq!(
            names.page(Some("oak\nmug"), false, page(5, 0)),
            (vec![3], 1)
        );
        assert_eq!(names.page(Some("k\nm"), false, page(5, 0)), (vec![3], 1));
        assert_eq!(names.page(Some("\n"), false, page(5, 0)), (vec![3], 1));
    }

    #[test]
    fn finds_the_same_as_a_plain_filter_at_any_spacing() {
        let rows: Vec<(i64, String, bool)> = (0..5000)
            .map(|i| {
                let word = if i % 97 == 0 || i % 1000 == 999 || i < 3 {
                    "walnut"
                } else {
                    "oak"
                };
                (i * 3 + 1, format!("{word} item {i}"), i % 5 == 0)
            })
            .collect();
        let names = Names::new(rows.clone());
        for term in ["walnut", "item 1", "oak item 4999", "t item", "9", "zz"] {
            for include_hidden in [false, true] {
                let expected: Vec<i64> = rows
                    .iter()
                    .filter(|(_, key, hidden)| key.contains(term) && (include_hidden || !hidden))
                    .map(|(id, _, _)| *id)
                    .collect();
                let (ids, total) = names.page(Some(term), include_hidden, page(10_000, 0));
                assert_eq!(
                    (ids, total),
                    (expected.clone(), expected.len() as i64),
                    "{term}"
                );
            }
        }
    }

    #[test]
    fn pages_without_a_term_skip_hidden_products() {
        let names = names(&[
            (2, "a", false),
            (3, "b", true),
            (5, "c", false),
            (8, "d", false),
        ]);
        assert_eq!(names.page(None, false, page(2, 0)), (vec![2, 5], 3));
        assert_eq!(names.page(None, false, page(2, 2)), (vec![8], 3));
        assert_eq!(names.page(None, true, page(2, 1)), (vec![3, 5], 4));
        assert_eq!(names.page(None, false, page(2, i64::MAX)), (vec![], 3));
    }

    #[test]
    fn names_beyond_ascii() {
        let names = names(&[
            (1, "crème brûlée set", false),
            (2, "straße", false),
            (3, "ǆungla", false),
        ]);
        assert_eq!(names.page(Some("brûlée"), false, page(5, 0)), (vec![1], 1));
        assert_eq!(names.page(Some("ße"), false, page(5, 0)), (vec![2], 1));
        assert_eq!(names.page(Some("ǆ"), false, page(5, 0)), (vec![3], 1));
        assert_eq!(
            Names::new(Vec::new()).page(Some("a"), true, page(5, 0)),
            (vec![], 0)
        );
    }
}
