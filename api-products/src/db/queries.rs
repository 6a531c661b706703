//! Every query of the products service, each written once for both backends.

use chrono::Utc;
use diesel::prelude::*;
use diesel::QueryResult;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use server::db::unique_violation;
use server::{with_conn, with_read_conn, ApiError, ApiResult, Db, Page};

use super::models::{NewProductRow, ProductChanges, ProductRow};
use super::schema::{catalogue_counts, catalogue_revision, products};
use crate::catalogue::DemoProduct;
use crate::domain::{ProductRef, SearchTerm};
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

/// A page of products by id whose names contain `search`, and how many match;
/// hidden products only with `include_hidden`: the database's answer, for a
/// catalogue larger than the names a replica keeps (`crate::index`, which
/// answers the same from memory otherwise). Without a search, the count is
/// the one the triggers keep, so a page costs the same at 100 or 100,000
/// products; on SQLite a search of three characters or more is answered by
/// the trigram index ([`sqlite_search`]), on PostgreSQL by its trigram index
/// under the LIKE.
pub async fn list(
    db: &Db,
    search: Option<&SearchTerm>,
    include_hidden: bool,
    page: Page,
) -> ApiResult<(Vec<ProductRow>, i64)> {
    if let (Db::Sqlite(_, readers), Some(term)) = (db, search) {
        if let Some(phrase) = term.match_phrase() {
            let mut conn = readers.get().await.map_err(server::db::pool_error)?;
            return Ok(sqlite_search(&mut conn, term, phrase, include_hidden, page).await?);
        }
    }
    let pattern = search.map(SearchTerm::like_pattern);
    with_read_conn!(db, |conn| {
        let matching = || {
            let mut query = products::table.into_boxed();
            if let Some(pattern) = &pattern {
                query = query.filter(products::name_key.like(pattern.clone()).escape('\\'));
            }
            if !include_hidden {
                query = query.filter(products::hidden.eq(false));
            }
            query
        };
        // The whole catalogue's count is kept by triggers; only a search counts.
        let total = if search.is_none() {
            let mut counts = catalogue_counts::table.into_boxed();
            if !include_hidden {
                counts = counts.filter(catalogue_counts::hidden.eq(false));
            }
            counts
                .select(catalogue_counts::products)
                .load::<i64>(conn)
                .await?
                .into_iter()
                .sum()
        } else {
            matching().count().get_result::<i64>(conn).await?
        };
        let rows = if page.offset >= total {
            Vec::new()
        } else {
            matching()
                .order(products::id)
                .limit(page.limit)
                .offset(page.offset)
                .select(ProductRow::as_select())
                .load(conn)
                .await?
        };
        Ok((rows, total))
    })
}

/// [`list`] with a search on SQLite, from the FTS5 trigram index
/// `products_search` (a `MATCH` of the term as a phrase is exactly "contains").
///
/// The count is the index's alone (no row is read), less the hidden products
/// that match (few: read through the `products_visible` index). The page walks
/// the index's matches in id order and reads only the rows it shows; the
/// `CROSS JOIN` keeps SQLite from turning the join around, which would run
/// the full-text query once per product.
async fn sqlite_search(
    conn: &mut server::db::SqliteConn,
    term: &SearchTerm,
    phrase: String,
    include_hidden: bool,
    page: Page,
) -> QueryResult<(Vec<ProductRow>, i64)> {
    use diesel::sql_types::{BigInt, Text};

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut total = diesel::sql_query(
        "SELECT count(*) AS n FROM products_search WHERE products_search MATCH ?",
    )
    .bind::<Text, _>(&phrase)
    .get_result::<Count>(conn)
    .await?
    .n;
    if !include_hidden {
        total -= products::table
            .filter(products::hidden.eq(true))
            .filter(products::name_key.like(term.like_pattern()).escape('\\'))
            .count()
            .get_result::<i64>(conn)
            .await?;
    }
    if page.offset >= total {
        return Ok((Vec::new(), total));
    }
    let rows = diesel::sql_query(format!(
        "SELECT products.* FROM products_search CROSS JOIN products \
         ON products.id = products_search.rowid \
         WHERE products_search MATCH ? {} \
         ORDER BY products_search.rowid LIMIT ? OFFSET ?",
        if include_hidden {
            ""
        } else {
            "AND NOT products.hidden"
        }
    ))
    .bind::<Text, _>(phrase)
    .bind::<BigInt, _>(page.limit)
    .bind::<BigInt, _>(page.offset)
    .load::<ProductRow>(conn)
    .await?;
    Ok((rows, total))
}

/// The catalogue's revision, bumped by every insert, delete and change of a
/// name or of `hidden`: what the search index checks before it reloads.
pub async fn revision(db: &Db) -> ApiResult<i64> {
    with_read_conn!(db, |conn| {
        catalogue_revision::table
            .select(catalogue_revision::revision)
            .first::<i64>(conn)
            .await
            .map_err(ApiError::from)
    })
}

/// How many products there are, hidden ones too (the counts triggers keep).
pub async fn size(db: &Db) -> ApiResult<i64> {
    with_read_conn!(db, |conn| {
        let counts = catalogue_counts::table
            .select(catalogue_counts::products)
            .load::<i64>(conn)
            .await?;
        Ok(counts.into_iter().sum())
    })
}

/// The id, lowercase name and `hidden` of the first `limit` products with
/// ids above `after`, by id: what the search index holds, a batch at a time.
pub async fn names_after(db: &Db, after: i64, limit: i64) -> ApiResult<Vec<(i64, String, bool)>> {
    with_read_conn!(db, |conn| {
        products::table
            .filter(products::id.gt(after))
            .select((products::id, products::name_key, products::hidden))
            .order(products::id)
            .limit(limit)
            .load(conn)
            .await
            .map_err(ApiError::from)
    })
}

/// The products with these ids, by id; hidden ones only with
/// `include_hidden` (one hidden since the index was read drops out).
pub async fn by_ids(db: &Db, ids: &[i64], include_hidden: bool) -> ApiResult<Vec<ProductRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    with_read_conn!(db, |conn| {
        let mut query = products::table
            .filter(products::id.eq_any(ids))
            .into_boxed();
        if !include_hidden {
            query = query.filter(products::hidden.eq(false));
        }
        query
            .order(products::id)
            .select(ProductRow::as_select())
            .load(conn)
            .await
            .map_err(ApiError::from)
    })
}

/// The product with that id or slug.
pub async fn find(db: &Db, wanted: &ProductRef) -> ApiResult<Option<ProductRow>> {
    with_read_conn!(db, |conn| {
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
        let row = find(db, &ProductRef::Id(id)).await?;
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
                Some(slug) => find(db, &ProductRef::Slug(slug.to_owned())).await?,
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
