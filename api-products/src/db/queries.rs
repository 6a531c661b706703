//! Every query of the products service, each written once for both backends.

use std::collections::HashMap;

use chrono::Utc;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::QueryResult;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use server::db::{unique_violation, PoolRef};
use server::{with_conn, ApiError, ApiResult, Db};

use super::models::{NewProductRow, ProductChanges, ProductRow};
use super::schema::{catalogue_revision, products};
use crate::demo::DemoProduct;
use crate::domain::listing::{IdList, Listing, SearchTerm, Sort};
use crate::domain::ProductRef;
use crate::images;

/// What became of a write to a product: the row as it is now, or why not.
#[derive(Debug)]
pub enum Write {
    Saved(ProductRow),
    NoSuchProduct,
    /// Another product has this slug or name already.
    Taken(Taken),
}

/// Which unique field clashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    Slug,
    Name,
}

/// A page of the products `listing` asks for, in its order, and how many
/// match; hidden products only with `include_hidden`: plain queries, for a
/// catalogue larger than the names a replica keeps (`catalogue::names`,
/// which answers the same from memory otherwise). They stay correct at any
/// size; the cost grows with the catalogue (a search reads every name, a
/// sort every row the database has no index for, the count every match).
/// Read `from` the primary or the replica, as are the reads below it, which
/// the catalogue serves (`crate::catalogue` decides where).
pub async fn list(
    from: PoolRef<'_>,
    listing: &Listing,
    include_hidden: bool,
) -> ApiResult<(Vec<ProductRow>, i64)> {
    let pattern = listing.search.as_ref().map(SearchTerm::like_pattern);
    let ids = listing.ids.as_ref().map(IdList::as_slice);
    let page = listing.page;
    with_conn!(from, |conn| {
        let matching = || {
            let mut query = products::table.into_boxed();
            if let Some(pattern) = &pattern {
                query = query.filter(products::name_key.like(pattern.clone()).escape('\\'));
            }
            if let Some(ids) = ids {
                query = query.filter(products::id.eq_any(ids));
            }
            if !include_hidden {
                query = query.filter(products::hidden.eq(false));
            }
            query
        };
        let total = matching().count().get_result::<i64>(conn).await?;
        if page.offset >= total {
            return Ok((Vec::new(), total));
        }
        let by_name = name_order(conn);
        let query = match listing.sort {
            Sort::Id => matching().order(products::id),
            Sort::IdDesc => matching().order(products::id.desc()),
            Sort::Price => matching().order((products::price, products::id)),
            Sort::PriceDesc => matching().order((products::price.desc(), products::id)),
            Sort::Name => matching().order((sql::<Text>(by_name), products::id)),
            Sort::NameDesc => {
                matching().order((sql::<Text>(&format!("{by_name} DESC")), products::id))
            }
        };
        let rows = query
            .limit(page.limit)
            .offset(page.offset)
            .select(ProductRow::as_select())
            .load(conn)
            .await?;
        Ok((rows, total))
    })
}

/// How a backend orders names as Rust's `str` does, byte by byte (the
/// names in memory sort so): SQLite's default `BINARY`; PostgreSQL's `"C"`,
/// whatever the database's own collation.
trait NameOrder {
    const BY_NAME: &'static str;
}

impl NameOrder for diesel::pg::Pg {
    const BY_NAME: &'static str = "name_key COLLATE \"C\"";
}

impl NameOrder for diesel::sqlite::Sqlite {
    const BY_NAME: &'static str = "name_key";
}

fn name_order<C: AsyncConnection>(_: &C) -> &'static str
where
    C::Backend: NameOrder,
{
    <C::Backend as NameOrder>::BY_NAME
}

/// The catalogue's revision, bumped by every insert, delete and change of a
/// name, a price or `hidden`: what the names in memory check before they reload.
pub async fn revision(from: PoolRef<'_>) -> ApiResult<i64> {
    with_conn!(from, |conn| {
        catalogue_revision::table
            .select(catalogue_revision::revision)
            .first::<i64>(conn)
            .await
            .map_err(ApiError::from)
    })
}

/// How many products there are, hidden ones too.
pub async fn size(from: PoolRef<'_>) -> ApiResult<i64> {
    with_conn!(from, |conn| {
        products::table
            .count()
            .get_result::<i64>(conn)
            .await
            .map_err(ApiError::from)
    })
}

/// What the names in memory hold of a product.
#[derive(Debug, Clone, Queryable)]
pub struct NameRow {
    pub id: i64,
    pub name_key: String,
    pub hidden: bool,
    pub price: i64,
}

/// The first `limit` products with ids above `after`, by id: what the names
/// in memory hold, a batch at a time.
pub async fn names_after(from: PoolRef<'_>, after: i64, limit: i64) -> ApiResult<Vec<NameRow>> {
    with_conn!(from, |conn| {
        products::table
            .filter(products::id.gt(after))
            .select((
                products::id,
                products::name_key,
                products::hidden,
                products::price,
            ))
            .order(products::id)
            .limit(limit)
            .load(conn)
            .await
            .map_err(ApiError::from)
    })
}

/// The products with these ids, in the order given; hidden ones only with
/// `include_hidden` (one hidden since the names were read drops out).
pub async fn by_ids(
    from: PoolRef<'_>,
    ids: &[i64],
    include_hidden: bool,
) -> ApiResult<Vec<ProductRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: Vec<ProductRow> = with_conn!(from, |conn| {
        let mut query = products::table
            .filter(products::id.eq_any(ids))
            .into_boxed();
        if !include_hidden {
            query = query.filter(products::hidden.eq(false));
        }
        query
            .select(ProductRow::as_select())
            .load(conn)
            .await
            .map_err(ApiError::from)
    })?;
    let place: HashMap<i64, usize> = ids.iter().enumerate().map(|(at, id)| (*id, at)).collect();
    rows.sort_by_key(|row| place.get(&row.id).copied());
    Ok(rows)
}

/// The product with that id or slug.
pub async fn find(from: PoolRef<'_>, wanted: &ProductRef) -> ApiResult<Option<ProductRow>> {
    with_conn!(from, |conn| {
        let query = products::table.select(ProductRow::as_select()).into_boxed();
        let query = match wanted {
            ProductRef::Id(id) => query.filter(products::id.eq(*id)),
            ProductRef::Slug(slug) => query.filter(products::slug.eq(slug.clone())),
        };
        query.first(conn).await.optional().map_err(ApiError::from)
    })
}

/// Inserts a product. The unique indexes on slug and on the lowercase name
/// make a duplicate [`Write::Taken`] even when two admins race.
pub async fn insert(db: &Db, row: NewProductRow<'_>) -> ApiResult<Write> {
    let inserted = with_conn!(db, |conn| {
        diesel::insert_into(products::table)
            .values(&row)
            .returning(ProductRow::as_returning())
            .get_result(conn)
            .await
            .map(Some)
    });
    settle(db, inserted, Some(row.slug), None).await
}

/// Changes the columns of `changes` of product `id` in one statement, so a
/// concurrent change of other columns is never undone; nothing to change
/// reads the product as it is.
pub async fn update(db: &Db, id: i64, changes: &ProductChanges<'_>) -> ApiResult<Write> {
    if changes.is_empty() {
        let row = find(db.reader(), &ProductRef::Id(id)).await?;
        return Ok(row.map_or(Write::NoSuchProduct, Write::Saved));
    }
    let updated = with_conn!(db, |conn| {
        diesel::update(products::table.find(id))
            .set(changes)
            .returning(ProductRow::as_returning())
            .get_result(conn)
            .await
            .optional()
    });
    settle(db, updated, changes.slug, Some(id)).await
}

/// What a write that gave `result` came to. A unique violation is a slug
/// clash when another product has the slug written, else a name clash; when
/// both clash the slug is reported, whichever index the database happened to
/// check first.
async fn settle(
    db: &Db,
    result: QueryResult<Option<ProductRow>>,
    slug: Option<&str>,
    id: Option<i64>,
) -> ApiResult<Write> {
    match result {
        Ok(Some(row)) => Ok(Write::Saved(row)),
        Ok(None) => Ok(Write::NoSuchProduct),
        Err(e) if unique_violation(&e).is_some() => {
            let holder = match slug {
                Some(slug) => find(db.reader(), &ProductRef::Slug(slug.to_owned())).await?,
                None => None,
            };
            let taken = if holder.is_some_and(|other| Some(other.id) != id) {
                Taken::Slug
            } else {
                Taken::Name
            };
            Ok(Write::Taken(taken))
        }
        Err(e) => Err(e.into()),
    }
}

/// Adds the demo catalogue if there are no products; returns how many were added.
///
/// Replicas starting together on one database cannot duplicate it: they take
/// turns (one transaction that writes first), and the rows go in with
/// `ON CONFLICT DO NOTHING` against the unique slug and name besides.
pub async fn seed_if_empty(db: &Db, demo: &[DemoProduct]) -> ApiResult<usize> {
    let now = Utc::now().naive_utc();
    let paths: Vec<String> = demo.iter().map(|p| images::path_of(p.image)).collect();
    let rows: Vec<NewProductRow<'_>> = demo
        .iter()
        .zip(&paths)
        .map(|(p, image)| NewProductRow {
            name: p.name,
            name_key: p.name.to_lowercase(),
            slug: p.slug,
            price: p.price,
            image,
            description: p.description,
            stock: Some(p.stock),
            created_at: now,
        })
        .collect();
    with_conn!(db, |conn| {
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            async move {
                // A write first takes the catalogue's write lock: replicas
                // seeding at once take turns, and the demo catalogue appears
                // whole, so a replica that is ready never lists part of it.
                diesel::update(catalogue_revision::table)
                    .set(catalogue_revision::revision.eq(catalogue_revision::revision))
                    .execute(conn)
                    .await?;
                let existing = products::table.count().get_result::<i64>(conn).await?;
                if existing > 0 {
                    return Ok(0);
                }
                let mut added = 0;
                for row in &rows {
                    added += diesel::insert_into(products::table)
                        .values(row)
                        .on_conflict_do_nothing()
                        .execute(conn)
                        .await?;
                }
                Ok(added)
            }
            .scope_boxed()
        })
        .await
        .map_err(ApiError::from)
    })
}
