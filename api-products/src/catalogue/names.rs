//! The names in memory: each replica keeps every product's id, lowercase
//! name, price and `hidden` flag ([`Names`]), about 53 bytes a product, and
//! answers "which ids are on this page, and how many match" without the
//! database; only the page's rows are then read, by primary key. A search is
//! one scan of the names with `memchr`'s substring finder (about 0.3 ms for
//! 100,000 names), so a broad term, a narrow one and page 2,000 cost the same
//! as the first page of a small shop; a sort by price or name walks an order
//! made once per reload, when first asked for (4 bytes a product each).
//!
//! The names are reloaded when the catalogue's revision changes, a row that
//! triggers bump with every insert, delete and change of a name, a price or
//! `hidden` (not stock). A replica checks it at most every [`CHECK_EVERY`]
//! (or on every read when the page cache is off), and at once after a change
//! it made itself. While one request reloads, the others answer from the
//! names they have, unless this replica's own change made them stale.
//!
//! `CATALOGUE_INDEX_MAX` bounds the memory: a larger catalogue, or 0, keeps
//! no names and is read with plain queries (`queries::list`).

use std::cmp::Reverse;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use memchr::memmem;
use server::db::PoolRef;
use server::{ApiResult, Db, Page};

use crate::db::queries::{self, NameRow};
use crate::domain::listing::Sort;

/// How long a replica trusts the names it has before it checks the revision.
pub const CHECK_EVERY: Duration = Duration::from_millis(100);

/// Names read from the database per query while loading.
const LOAD_BATCH: i64 = 20_000;

/// What a page of the catalogue asks of the names.
#[derive(Debug, Clone, Copy)]
pub struct Filter<'a> {
    /// Lowercase text the name must contain.
    pub term: Option<&'a str>,
    /// Only these ids.
    pub ids: Option<&'a [i64]>,
    pub sort: Sort,
    pub include_hidden: bool,
}

/// Every product's id, lowercase name, price and `hidden`, by id.
#[derive(Debug, Default)]
pub struct Names {
    ids: Vec<i64>,
    hidden: Vec<bool>,
    prices: Vec<i64>,
    /// Positions (in `ids`) of the products shoppers see.
    visible: Vec<u32>,
    /// The names, each followed by a newline: name `i` starts at `starts[i]`
    /// and ends before the newline that precedes the next one's start.
    keys: String,
    starts: Vec<u32>,
    /// Every position by price then id, by price descending then id, and by
    /// name (names are unique): made when first needed.
    by_price: OnceLock<Vec<u32>>,
    by_price_desc: OnceLock<Vec<u32>>,
    by_name: OnceLock<Vec<u32>>,
}

impl Names {
    /// From rows in id order.
    #[cfg(test)]
    fn new(rows: Vec<NameRow>) -> Self {
        let mut names = Self::default();
        for row in &rows {
            names.push(row);
        }
        names
    }

    /// Adds a product after those held (ids ascending).
    fn push(&mut self, row: &NameRow) {
        if !row.hidden {
            self.visible.push(self.ids.len() as u32);
        }
        self.ids.push(row.id);
        self.hidden.push(row.hidden);
        self.prices.push(row.price);
        self.starts.push(self.keys.len() as u32);
        self.keys.push_str(&row.name_key);
        self.keys.push('\n');
    }

    /// Reads every product's name, a batch of [`LOAD_BATCH`] at a time, so
    /// that loading takes little more memory than the names themselves.
    async fn load(from: PoolRef<'_>, size: usize) -> ApiResult<Self> {
        // Sized at once: grown by doubling, the peak was twice the names.
        let mut names = Self {
            ids: Vec::with_capacity(size),
            hidden: Vec::with_capacity(size),
            prices: Vec::with_capacity(size),
            visible: Vec::with_capacity(size),
            starts: Vec::with_capacity(size),
            keys: String::with_capacity(size * 24),
            ..Self::default()
        };
        let mut after = i64::MIN;
        loop {
            let batch = queries::names_after(from, after, LOAD_BATCH).await?;
            for row in &batch {
                names.push(row);
            }
            match batch.last() {
                Some(last) if batch.len() as i64 == LOAD_BATCH => after = last.id,
                _ => break,
            }
        }
        names.ids.shrink_to_fit();
        names.hidden.shrink_to_fit();
        names.prices.shrink_to_fit();
        names.visible.shrink_to_fit();
        names.keys.shrink_to_fit();
        names.starts.shrink_to_fit();
        Ok(names)
    }

    /// The ids on `page` of the products `filter` asks for, in its order, and
    /// how many match in all.
    pub fn page(&self, filter: &Filter<'_>, page: Page) -> (Vec<i64>, i64) {
        let offset = usize::try_from(page.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(page.limit).unwrap_or(0);
        let shown = |at: usize| filter.include_hidden || !self.hidden[at];
        let ids = |positions: &mut dyn Iterator<Item = usize>| -> Vec<i64> {
            positions
                .skip(offset)
                .take(limit)
                .map(|at| self.ids[at])
                .collect()
        };
        match (filter.ids, filter.term, filter.sort) {
            // A search by id: counted and paged in one pass, nothing collected.
            (None, Some(term), Sort::Id) => {
                let mut page = Vec::new();
                let mut total = 0usize;
                for at in self.containing(term).filter(|&at| shown(at)) {
                    if total >= offset && page.len() < limit {
                        page.push(self.ids[at]);
                    }
                    total += 1;
                }
                (page, total as i64)
            }
            // The whole catalogue: a slice of an order held.
            (None, None, sort) => {
                let total = if filter.include_hidden {
                    self.ids.len()
                } else {
                    self.visible.len()
                };
                let ids = match sort {
                    // Slices, skipped in one step: page 2,000 costs what page 1 does.
                    Sort::Id if filter.include_hidden => {
                        self.ids.iter().skip(offset).take(limit).copied().collect()
                    }
                    Sort::Id => {
                        let slice = self.visible.iter().skip(offset).take(limit);
                        slice.map(|&at| self.ids[at as usize]).collect()
                    }
                    Sort::IdDesc => ids(&mut (0..self.ids.len()).rev().filter(|&at| shown(at))),
                    Sort::NameDesc => {
                        let order = self.order(Sort::Name).iter().rev();
                        ids(&mut order.map(|&at| at as usize).filter(|&at| shown(at)))
                    }
                    sort => {
                        let order = self.order(sort).iter();
                        ids(&mut order.map(|&at| at as usize).filter(|&at| shown(at)))
                    }
                };
                (ids, total as i64)
            }
            // Narrowed by ids or a term, then sorted: the matches collected.
            (wanted, term, sort) => {
                let mut matches: Vec<usize> = match (wanted, term) {
                    (Some(wanted), term) => {
                        let mut found: Vec<usize> = wanted
                            .iter()
                            .filter_map(|id| self.ids.binary_search(id).ok())
                            .collect();
                        found.sort_unstable();
                        found.dedup();
                        if let Some(term) = term {
                            let finder = memmem::Finder::new(term.as_bytes());
                            found.retain(|&at| finder.find(self.name(at).as_bytes()).is_some());
                        }
                        found
                    }
                    (None, Some(term)) => self.containing(term).collect(),
                    (None, None) => (0..self.ids.len()).collect(),
                };
                matches.retain(|&at| shown(at));
                self.sort(&mut matches, sort);
                let total = matches.len() as i64;
                (ids(&mut matches.into_iter()), total)
            }
        }
    }

    /// Sorts positions (in id order) as `sort` says; ties by id.
    fn sort(&self, positions: &mut [usize], sort: Sort) {
        match sort {
            Sort::Id => {}
            Sort::IdDesc => positions.reverse(),
            Sort::Price => positions.sort_by_key(|&at| (self.prices[at], at)),
            Sort::PriceDesc => positions.sort_by_key(|&at| (Reverse(self.prices[at]), at)),
            Sort::Name => {
                positions.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)).then(a.cmp(&b)))
            }
            Sort::NameDesc => {
                positions.sort_unstable_by(|&a, &b| self.name(b).cmp(self.name(a)).then(a.cmp(&b)))
            }
        }
    }

    /// Every position in the order of `sort` (by price, by price descending
    /// or by name), made the first time it is asked for.
    fn order(&self, sort: Sort) -> &[u32] {
        let (held, sort) = match sort {
            Sort::Price => (&self.by_price, Sort::Price),
            Sort::PriceDesc => (&self.by_price_desc, Sort::PriceDesc),
            _ => (&self.by_name, Sort::Name),
        };
        held.get_or_init(|| {
            let mut all: Vec<usize> = (0..self.ids.len()).collect();
            self.sort(&mut all, sort);
            all.into_iter().map(|at| at as u32).collect()
        })
    }

    /// The lowercase name at position `at`.
    fn name(&self, at: usize) -> &str {
        let start = self.starts[at] as usize;
        let end = self.start(at + 1).unwrap_or(self.keys.len()) - 1;
        &self.keys[start..end]
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
pub struct NameIndex {
    max: usize,
    check_every: Duration,
    held: Mutex<Held>,
    /// One request at a time checks and reloads.
    reload: tokio::sync::Mutex<()>,
    /// How many changes this replica has made to the catalogue. The names
    /// held are stale until a check that began after the last of them ends
    /// ([`Held::changes`]); a check in flight does not make them current.
    changes: AtomicU64,
}

#[derive(Debug, Default)]
struct Held {
    /// The revision last read, and when.
    checked: Option<(i64, Instant)>,
    /// `None` at that revision: too many products, plain queries answer.
    names: Option<Arc<Names>>,
    /// [`NameIndex::changes`] as it was when that check began: every change
    /// of this replica's up to there is in these names.
    changes: u64,
}

impl NameIndex {
    /// Keeps at most `max` products (0: never, plain queries answer) and
    /// trusts them for `check_every` between two checks of the revision.
    pub fn new(max: usize, check_every: Duration) -> Self {
        Self {
            max,
            check_every,
            held: Mutex::default(),
            reload: tokio::sync::Mutex::new(()),
            changes: AtomicU64::new(0),
        }
    }

    /// Loads the names in the background, so that the first visitors after
    /// a start do not wait for them (about 100 ms at 100,000 products),
    /// from the replica if there is one.
    pub fn warm(self: &Arc<Self>, db: &Db) {
        let (index, db) = (self.clone(), db.clone());
        tokio::spawn(async move {
            if let Err(e) = db.on_replica(|from| index.current(from, false)).await {
                tracing::warn!(error = %e, "loading the names for search; the first search will try again");
            }
        });
    }

    /// This replica changed the catalogue: the next read checks the revision
    /// and waits for the reload.
    pub fn invalidate(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// The names, current as the module's text says, or `None`: too many
    /// products, let plain queries answer. `fresh`: the reader needs the
    /// database's answer (see `Reader`), check the revision now. Read `from`
    /// the primary or the replica, whichever the catalogue chose for the
    /// request: one check reads the revision and the names from one server,
    /// so the names are never older than the revision they are kept under.
    pub async fn current(&self, from: PoolRef<'_>, fresh: bool) -> ApiResult<Option<Arc<Names>>> {
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
                // load, wait for it. (The check in flight may have begun
                // before the change: its answer is awaited, then trusted
                // only if it did not.)
                if !fresh {
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
        // Counted before reading: each change counted here was committed
        // before it was counted, so the revision read next includes it; a
        // change counted later leaves the names stale. A check that fails
        // records nothing.
        let changes = self.changes.load(Ordering::Acquire);
        self.check(from, changes).await
    }

    /// Reads the revision and, when it changed, the names; holds them as
    /// including this replica's first `changes` changes.
    async fn check(&self, from: PoolRef<'_>, changes: u64) -> ApiResult<Option<Arc<Names>>> {
        let revision = queries::revision(from).await?;
        let unchanged = {
            let mut held = self.lock();
            let same = matches!(held.checked, Some((r, _)) if r == revision);
            if same {
                held.checked = Some((revision, Instant::now()));
                held.changes = changes;
            }
            same.then(|| held.names.clone())
        };
        if let Some(names) = unchanged {
            return Ok(names);
        }
        let size = usize::try_from(queries::size(from).await?).unwrap_or(usize::MAX);
        let names = if size > self.max {
            tracing::info!(
                products = size,
                max = self.max,
                "catalogue larger than CATALOGUE_INDEX_MAX: read with plain queries"
            );
            None
        } else {
            let started = Instant::now();
            // Read after the revision: never older than the revision recorded.
            let names = Names::load(from, size).await?;
            tracing::debug!(products = names.ids.len(), revision, took = ?started.elapsed(), "names loaded");
            Some(Arc::new(names))
        };
        let mut held = self.lock();
        held.checked = Some((revision, Instant::now()));
        held.names = names.clone();
        held.changes = changes;
        Ok(names)
    }

    /// What is held, if checked within `check_every` and not made stale.
    fn trusted(&self) -> Option<Option<Arc<Names>>> {
        let held = self.lock();
        let (_, at) = held.checked?;
        (self.includes_own_changes(&held) && at.elapsed() < self.check_every)
            .then(|| held.names.clone())
    }

    /// What is held, however old, unless it lacks a change of this
    /// replica's own; `None` before the first load.
    fn held_names(&self) -> Option<Option<Arc<Names>>> {
        let held = self.lock();
        held.checked?;
        self.includes_own_changes(&held).then(|| held.names.clone())
    }

    /// Whether `held` was checked after this replica's last change.
    fn includes_own_changes(&self, held: &Held) -> bool {
        held.changes == self.changes.load(Ordering::Acquire)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, name_key: &str, hidden: bool, price: i64) -> NameRow {
        NameRow {
            id,
            name_key: name_key.to_owned(),
            hidden,
            price,
        }
    }

    fn names(rows: &[(i64, &str, bool)]) -> Names {
        let rows = rows
            .iter()
            .map(|&(id, key, hidden)| row(id, key, hidden, 100))
            .collect();
        Names::new(rows)
    }

    impl Names {
        /// A page by id, of names containing `term` (all without one).
        fn search(&self, term: Option<&str>, include_hidden: bool, page: Page) -> (Vec<i64>, i64) {
            let filter = Filter {
                term,
                ids: None,
                sort: Sort::Id,
                include_hidden,
            };
            self.page(&filter, page)
        }
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
        assert_eq!(
            names.search(Some("mug"), false, page(10, 0)),
            (vec![1, 4], 2)
        );
        assert_eq!(
            names.search(Some("mug"), true, page(10, 0)),
            (vec![1, 4, 12], 3)
        );
        assert_eq!(names.search(Some("mug"), true, page(1, 1)), (vec![4], 3));
        assert_eq!(names.search(Some("mug"), false, page(5, 9)), (vec![], 2));
        assert_eq!(
            names.search(Some("% cotton_"), false, page(5, 0)),
            (vec![15], 1)
        );
        assert_eq!(
            names.search(Some("zeppelin"), false, page(5, 0)),
            (vec![], 0)
        );
    }

    #[test]
    fn a_match_never_runs_across_two_names() {
        let names = names(&[(1, "oak", false), (2, "mug", false), (3, "oak\nmug", false)]);
        // "oak\nmug" is in the joined names twice, but is only the third name.
        assert_eq!(
            names.search(Some("oak\nmug"), false, page(5, 0)),
            (vec![3], 1)
        );
        assert_eq!(names.search(Some("k\nm"), false, page(5, 0)), (vec![3], 1));
        assert_eq!(names.search(Some("\n"), false, page(5, 0)), (vec![3], 1));
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
        let names = Names::new(
            rows.iter()
                .map(|(id, key, hidden)| row(*id, key, *hidden, 100))
                .collect(),
        );
        for term in ["walnut", "item 1", "oak item 4999", "t item", "9", "zz"] {
            for include_hidden in [false, true] {
                let expected: Vec<i64> = rows
                    .iter()
                    .filter(|(_, key, hidden)| key.contains(term) && (include_hidden || !hidden))
                    .map(|(id, _, _)| *id)
                    .collect();
                let (ids, total) = names.search(Some(term), include_hidden, page(10_000, 0));
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
        assert_eq!(names.search(None, false, page(2, 0)), (vec![2, 5], 3));
        assert_eq!(names.search(None, false, page(2, 2)), (vec![8], 3));
        assert_eq!(names.search(None, true, page(2, 1)), (vec![3, 5], 4));
        assert_eq!(names.search(None, false, page(2, i64::MAX)), (vec![], 3));
    }

    #[test]
    fn names_beyond_ascii() {
        let names = names(&[
            (1, "crème brûlée set", false),
            (2, "straße", false),
            (3, "ǆungla", false),
        ]);
        assert_eq!(
            names.search(Some("brûlée"), false, page(5, 0)),
            (vec![1], 1)
        );
        assert_eq!(names.search(Some("ße"), false, page(5, 0)), (vec![2], 1));
        assert_eq!(names.search(Some("ǆ"), false, page(5, 0)), (vec![3], 1));
        assert_eq!(
            Names::new(Vec::new()).search(Some("a"), true, page(5, 0)),
            (vec![], 0)
        );
    }

    fn shop() -> Names {
        Names::new(vec![
            row(1, "oak board", false, 500),
            row(2, "mug", false, 300),
            row(3, "hidden mug", true, 100),
            row(4, "big mug", false, 500),
            row(5, "apron", false, 300),
        ])
    }

    fn ask(
        names: &Names,
        term: Option<&str>,
        ids: Option<&[i64]>,
        sort: Sort,
        include_hidden: bool,
        at: Page,
    ) -> (Vec<i64>, i64) {
        let filter = Filter {
            term,
            ids,
            sort,
            include_hidden,
        };
        names.page(&filter, at)
    }

    #[test]
    fn sorts_by_price_and_by_name_ties_by_id() {
        let names = shop();
        let all = |sort, hidden, at| ask(&names, None, None, sort, hidden, at);
        assert_eq!(all(Sort::Price, false, page(10, 0)), (vec![2, 5, 1, 4], 4));
        assert_eq!(
            all(Sort::PriceDesc, false, page(10, 0)),
            (vec![1, 4, 2, 5], 4)
        );
        assert_eq!(all(Sort::Price, true, page(2, 1)), (vec![2, 5], 5));
        assert_eq!(all(Sort::Name, false, page(10, 0)), (vec![5, 4, 2, 1], 4));
        assert_eq!(
            all(Sort::NameDesc, false, page(10, 0)),
            (vec![1, 2, 4, 5], 4)
        );
        assert_eq!(all(Sort::NameDesc, true, page(2, 1)), (vec![2, 3], 5));
        assert_eq!(all(Sort::IdDesc, false, page(2, 0)), (vec![5, 4], 4));
        assert_eq!(all(Sort::IdDesc, true, page(2, 1)), (vec![4, 3], 5));
    }

    #[test]
    fn a_search_is_sorted_before_it_is_paged() {
        let names = shop();
        let mugs = |sort, hidden, at| ask(&names, Some("mug"), None, sort, hidden, at);
        assert_eq!(mugs(Sort::PriceDesc, true, page(10, 0)), (vec![4, 2, 3], 3));
        assert_eq!(mugs(Sort::Name, false, page(1, 1)), (vec![2], 2));
        assert_eq!(mugs(Sort::IdDesc, false, page(10, 0)), (vec![4, 2], 2));
        assert_eq!(mugs(Sort::Price, false, page(10, 5)), (vec![], 2));
    }

    #[test]
    fn ids_fetch_those_products_leaving_out_unknown_and_hidden_ones() {
        let names = shop();
        let some = |ids: &[i64], term, sort, hidden| {
            ask(&names, term, Some(ids), sort, hidden, page(10, 0))
        };
        assert_eq!(
            some(&[4, 99, 3, 1, 4], None, Sort::Id, false),
            (vec![1, 4], 2)
        );
        assert_eq!(some(&[4, 3, 1], None, Sort::Id, true), (vec![1, 3, 4], 3));
        assert_eq!(
            some(&[4, 2, 1], None, Sort::Price, false),
            (vec![2, 1, 4], 3)
        );
        assert_eq!(
            some(&[4, 2, 1], Some("mug"), Sort::Id, false),
            (vec![2, 4], 2)
        );
        assert_eq!(some(&[-1, 0, 6], None, Sort::Id, true), (vec![], 0));
    }
}
