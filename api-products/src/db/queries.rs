//! Every query of the products service, each written once for both backends.

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use server::db::unique_violation;
use server::{with_conn, ApiError, ApiResult, Db, Page};

use super::models::{NewProductRow, ProductRow};
use super::schema::products;
use crate::catalogue::DemoProduct;
use crate::domain::{ProductRef, SearchTerm};
use crate::images;

/// A page of products by id whose names contain `search`, and how many match.
pub async fn list(
    db: &Db,
    search: Option<&SearchTerm>,
    page: Page,
) -> ApiResult<(Vec<ProductRow>, i64)> {
    let pattern = search.map(SearchTerm::like_pattern);
    with_conn!(db, |conn| {
        let matching = || {
            let mut query = products::table.into_boxed();
            if let Some(pattern) = &pattern {
                query = query.filter(products::name_key.like(pattern.clone()).escape('\\'));
            }
            query
        };
        let total = matching().count().get_result::<i64>(conn).await?;
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

/// The product with that id or slug.
pub async fn find(db: &Db, wanted: &ProductRef) -> ApiResult<Option<ProductRow>> {
    with_conn!(db, |conn| {
        let query = products::table.select(ProductRow::as_select()).into_boxed();
        let query = match wanted {
            ProductRef::Id(id) => query.filter(products::id.eq(*id)),
            ProductRef::Slug(slug) => query.filter(products::slug.eq(slug.clone())),
        };
        query.first(conn).await.optional().map_err(ApiError::from)
    })
}

/// Inserts a product. The unique indexes on slug and on the lowercase name
/// make a duplicate a 409 even when two admins race; when both clash, the slug
/// is reported, whichever index the database happened to check first.
pub async fn insert(db: &Db, row: NewProductRow<'_>) -> ApiResult<ProductRow> {
    let slug = row.slug.to_owned();
    let inserted = with_conn!(db, |conn| {
        diesel::insert_into(products::table)
            .values(&row)
            .returning(ProductRow::as_returning())
            .get_result(conn)
            .await
            .map_err(|e| (unique_violation(&e).is_some(), ApiError::from(e)))
    });
    match inserted {
        Ok(row) => Ok(row),
        Err((true, _)) => {
            if find(db, &ProductRef::Slug(slug)).await?.is_some() {
                Err(ApiError::conflict(
                    "slug_taken",
                    "A product with this slug exists already",
                ))
            } else {
                Err(ApiError::conflict(
                    "name_taken",
                    "A product with this name exists already",
                ))
            }
        }
        Err((false, e)) => Err(e),
    }
}

/// Adds the demo catalogue if there are no products; returns how many were added.
///
/// Replicas starting together on one database cannot duplicate it: the rows go
/// in with `ON CONFLICT DO NOTHING` against the unique slug and name, so a
/// replica that also saw an empty table adds nothing the first one added.
pub async fn seed_if_empty(db: &Db, demo: &[DemoProduct]) -> ApiResult<usize> {
    let now = Utc::now().naive_utc();
    let paths: Vec<String> = demo.iter().map(|p| images::path_of(p.image)).collect();
    let rows: Vec<NewProductRow> = demo
        .iter()
        .zip(&paths)
        .map(|(p, image)| NewProductRow {
            name: p.name,
            name_key: p.name.to_lowercase(),
            slug: p.slug,
            price: p.price,
            image,
            description: p.description,
            created_at: now,
        })
        .collect();
    with_conn!(db, |conn| {
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
    })
}
