//! The catalogue's read path, behind one door: [`Catalogue`] answers a page
//! of products or one product as a JSON body with its ETag, from memory when
//! it may, and decides once per request how fresh that answer must be
//! ([`Reader`]). To change search, sorting, paging or product reads, start
//! here.
//!
//! Behind it, each mechanism paying for itself (README, "Benchmarks"):
//! - the page cache (`cache`): shoppers' answers, serialized, with their
//!   ETags (`crate::etag`), kept for `CATALOGUE_CACHE_MS`;
//! - the names (`names`): every product's id, lowercase name, price and
//!   `hidden`, which answer which ids are on a page (search, sort, `ids`) and
//!   how many match, so only the page's rows are read, by primary key (broad
//!   search 738 -> 3,510 req/s over 100,000 products, from the database each
//!   time); above `CATALOGUE_INDEX_MAX` products, plain queries
//!   (`queries::list`) give the same answers, slower;
//! - the row reads (`db::queries`).
//!
//! Freshness. The catalogue changes a few times a day, stock with every
//! checkout, so there is no version every replica checks (a version bumped
//! by each reservation would be one hot row every checkout queues on).
//! Instead a replica forgets its answers when it changes the catalogue or
//! its stock itself ([`Catalogue::changed`], [`Catalogue::stock_changed`]),
//! and the others serve what they hold for at most the cache's time: a
//! change shows at once on the replica that made it, within a second on the
//! others. Prices stay exact where they are charged: the orders service asks
//! with `Cache-Control: no-cache` and the service token, which alone reads
//! past memory (contract v1.3); anyone else's `no-cache` is served from
//! memory like any read, or anyone could send every read to the database.
//! Admins' lists of hidden products, and hidden products, are never kept.
//!
//! Where the database reads go. With a replica (`DATABASE_REPLICA_URL`),
//! what shoppers read past memory is read there ([`Db::on_replica`]: on
//! the primary when the replica fails); the primary answers what must be
//! current: the orders service's fresh reads (prices), admins' lists, and
//! every read for [`OWN_CHANGES_ON_PRIMARY`] after a change this replica
//! made, so that it shows here at once as it does without a replica (a
//! page read from a replica a few milliseconds behind would be kept for
//! the cache's time). A replica lagging longer than that shows the change
//! here until then, then the replica's view until it catches up.

mod cache;
pub mod names;

use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::CACHE_CONTROL;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use server::auth::token_from_headers;
use server::db::PoolRef;
use server::{ApiResult, Db, ServiceToken};
use shared::{ListBody, ResultBody};

use self::cache::{Kept, PageCache};
use self::names::{Filter, NameIndex, CHECK_EVERY};
use crate::config::CatalogueConfig;
use crate::db::queries;
use crate::domain::listing::{IdList, Listing, SearchTerm};
use crate::domain::ProductRef;
use crate::etag::Tagged;

/// How long after a change of its own a replica reads the catalogue from
/// the primary (with a database replica; see the module's text).
pub const OWN_CHANGES_ON_PRIMARY: Duration = Duration::from_secs(1);

/// The catalogue as shoppers, admins and the orders service read it.
pub struct Catalogue {
    db: Db,
    pages: PageCache,
    names: Arc<NameIndex>,
    /// The base of image URLs (`PUBLIC_URL`).
    public_url: String,
    /// When this replica last changed the catalogue or its stock.
    own_change: Mutex<Option<Instant>>,
}

/// One product, as the catalogue found it.
#[derive(Debug)]
pub enum Found {
    Product(Tagged),
    /// Hidden: for admins only (the route asks who calls).
    Hidden(Tagged),
    Missing,
}

impl Catalogue {
    /// The names load in the background at once, so the first visitors
    /// after a start do not wait for them.
    pub fn new(db: Db, config: CatalogueConfig, public_url: String) -> Self {
        let check_every = CHECK_EVERY.min(config.cache_ttl);
        let names = Arc::new(NameIndex::new(config.index_max, check_every));
        names.warm(&db);
        Self {
            db,
            pages: PageCache::new(config.cache_ttl),
            names,
            public_url,
            own_change: Mutex::new(None),
        }
    }

    /// The page `listing` asks for; hidden products only with
    /// `include_hidden` (an admin's list, never kept).
    pub async fn list(
        &self,
        listing: &Listing,
        include_hidden: bool,
        reader: Reader,
    ) -> ApiResult<Tagged> {
        if include_hidden {
            return self.read_list(listing, true, reader.fresh, true).await;
        }
        let key = listing.key();
        let _filling = match self.pages.get_or_turn(&key, reader.fresh).await {
            Ok(Kept::Found(answer)) => return Ok(answer),
            // Never kept under a list's key: read as a miss.
            Ok(Kept::Missing) => None,
            Err(turn) => turn,
        };
        let generation = self.pages.generation();
        let on_primary = self.on_primary(reader);
        let answer = self
            .read_list(listing, false, reader.fresh, on_primary)
            .await?;
        self.pages
            .put(&key, generation, Kept::Found(answer.clone()));
        Ok(answer)
    }

    /// The product with that id or slug.
    pub async fn product(&self, wanted: &ProductRef, reader: Reader) -> ApiResult<Found> {
        let key = match wanted {
            ProductRef::Id(id) => format!("id|{id}"),
            ProductRef::Slug(slug) => format!("slug|{slug}"),
        };
        let _filling = match self.pages.get_or_turn(&key, reader.fresh).await {
            Ok(Kept::Found(answer)) => return Ok(Found::Product(answer)),
            Ok(Kept::Missing) => return Ok(Found::Missing),
            Err(turn) => turn,
        };
        let generation = self.pages.generation();
        let on_primary = self.on_primary(reader);
        let found = self
            .read(on_primary, |from| queries::find(from, wanted))
            .await?;
        let Some(row) = found else {
            // Kept too: a flood of unknown ids or slugs reads the database
            // once per key and time bound.
            self.pages.put(&key, generation, Kept::Missing);
            return Ok(Found::Missing);
        };
        let hidden = row.hidden;
        let answer = Tagged::of(&ResultBody {
            result: row.into_product(&self.public_url),
        })?;
        // Only what shoppers may see is kept (and so never a hidden
        // product's 404, which an admin asking next must not get).
        if hidden {
            return Ok(Found::Hidden(answer));
        }
        self.pages
            .put(&key, generation, Kept::Found(answer.clone()));
        Ok(Found::Product(answer))
    }

    /// The page cache's hit and miss counts, for `/metrics`.
    pub fn metrics(&self) -> server::metrics::ServiceMetrics {
        let counts = self.pages.counts();
        Arc::new(move || counts.render())
    }

    /// This replica added or changed a product: its answers and its names
    /// are stale.
    pub fn changed(&self) {
        self.pages.invalidate();
        self.names.invalidate();
        self.note_own_change();
    }

    /// This replica changed stock (a reservation, a release): its answers
    /// are stale, its names are not (they hold no stock).
    pub fn stock_changed(&self) {
        self.pages.invalidate();
        self.note_own_change();
    }

    fn note_own_change(&self) {
        *self.own_change.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// Whether `reader`'s read past memory must be the primary's: a fresh
    /// read, or one soon after a change of this replica's own.
    fn on_primary(&self, reader: Reader) -> bool {
        let own_change = *self.own_change.lock().unwrap_or_else(|p| p.into_inner());
        reader.fresh || own_change.is_some_and(|at| at.elapsed() < OWN_CHANGES_ON_PRIMARY)
    }

    /// `read` on the primary, or on the replica (the primary if none, or
    /// if it fails there).
    async fn read<'a, T, F, Fut>(&'a self, on_primary: bool, read: F) -> ApiResult<T>
    where
        F: Fn(PoolRef<'a>) -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        if on_primary {
            read(self.db.reader()).await
        } else {
            self.db.on_replica(read).await
        }
    }

    /// The page, read now: its ids from the names (or, above their limit,
    /// plain queries), then its rows, all from one server.
    async fn read_list(
        &self,
        listing: &Listing,
        include_hidden: bool,
        fresh: bool,
        on_primary: bool,
    ) -> ApiResult<Tagged> {
        let (rows, total) = self
            .read(on_primary, |from| {
                self.page_rows(from, listing, include_hidden, fresh)
            })
            .await?;
        let results = rows
            .into_iter()
            .map(|row| row.into_product(&self.public_url))
            .collect();
        Tagged::of(&ListBody { results, total })
    }

    /// The rows of a page and how many match, read `from` one server.
    async fn page_rows(
        &self,
        from: PoolRef<'_>,
        listing: &Listing,
        include_hidden: bool,
        fresh: bool,
    ) -> ApiResult<(Vec<crate::db::models::ProductRow>, i64)> {
        Ok(match self.names.current(from, fresh).await? {
            Some(names) => {
                let filter = Filter {
                    term: listing.search.as_ref().map(SearchTerm::as_str),
                    ids: listing.ids.as_ref().map(IdList::as_slice),
                    sort: listing.sort,
                    include_hidden,
                };
                let (ids, total) = names.page(&filter, listing.page);
                let rows = queries::by_ids(from, &ids, include_hidden).await?;
                (rows, total)
            }
            None => queries::list(from, listing, include_hidden).await?,
        })
    }
}

/// Who reads the catalogue, and how fresh an answer they need: decided once
/// per request, from its headers. Only the service token's `Cache-Control:
/// no-cache` (or `no-store`, `max-age=0`) reads past memory (contract v1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    /// The request presents the service token (the orders service). Product
    /// reads need no token, so another one is not refused: it is only not
    /// the service's.
    pub service: bool,
    /// The database's answer now, past the page cache and the names' interval.
    pub fresh: bool,
}

impl Reader {
    pub fn of(headers: &HeaderMap, service_token: &ServiceToken) -> Self {
        let service = token_from_headers(headers).is_some_and(|token| service_token.matches(token));
        let no_cache = headers
            .get_all(CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|d| d.trim().to_ascii_lowercase())
            .any(|d| d == "no-cache" || d == "no-store" || d == "max-age=0");
        Self {
            service,
            fresh: service && no_cache,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Reader
where
    ServiceToken: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        Ok(Self::of(&parts.headers, &ServiceToken::from_ref(state)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::AUTHORIZATION;
    use axum::http::HeaderValue;

    #[test]
    fn only_the_service_token_reads_fresh() {
        let settings = server::Settings::from_vars("api-products", 5002, |_| None).unwrap();
        let token = ServiceToken::from_vars(&settings, |name| {
            (name == "SERVICE_TOKEN").then(|| "the-service-token-0123456789".to_owned())
        })
        .unwrap();
        let request = |cache_control: Option<&str>, bearer: Option<&str>| {
            let mut headers = HeaderMap::new();
            if let Some(value) = cache_control {
                headers.insert(CACHE_CONTROL, HeaderValue::from_str(value).unwrap());
            }
            if let Some(token) = bearer {
                let value = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
                headers.insert(AUTHORIZATION, value);
            }
            Reader::of(&headers, &token).fresh
        };
        let service = Some("the-service-token-0123456789");
        assert!(request(Some("no-cache"), service));
        assert!(request(Some("max-age=0"), service));
        assert!(request(Some("no-store, private"), service));
        assert!(
            !request(None, service),
            "the service's plain read is cached"
        );
        assert!(
            !request(Some("no-cache"), None),
            "a shopper's no-cache is not"
        );
        assert!(!request(Some("no-cache"), Some("a-shoppers-token")));
        assert!(!request(
            Some("no-cache"),
            Some("the-service-token-012345678")
        ));
    }
}
