//! Reading the catalogue: the demo products, the list, lookups by id and slug.

use std::collections::HashSet;

use shared::Product;
use testkit::assert_error;

use crate::support::{ids, Shop};

#[testkit::both_backends]
async fn a_fresh_database_starts_with_the_demo_catalogue(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let page = shop.list("/api/products").await;
    let products = &page.results;
    assert!(products.len() >= 12, "{page:?}");
    assert_eq!(page.total, products.len() as i64);
    let mut slugs = HashSet::new();
    for p in products {
        assert!(p.name.len() >= 5, "{p:?}");
        assert!(p.description.len() >= 40, "{p:?}");
        assert!(p.price > 0, "{p:?}");
        assert!(
            p.image.starts_with(&shop.url("/images/")) && p.image.ends_with(".svg"),
            "{p:?}"
        );
        assert!(slugs.insert(p.slug.clone()), "duplicate slug {p:?}");
    }
    assert!(products.iter().any(|p| p.slug == "stoneware-mug"));
}

#[testkit::both_backends]
async fn products_are_listed_by_id_and_paged_with_limit_and_offset(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let all = shop.list("/api/products").await;
    let all_ids = ids(&all);
    let mut sorted = all_ids.clone();
    sorted.sort();
    assert_eq!(all_ids, sorted);
    let total = all.total;

    let mut walked = Vec::new();
    for offset in (0..total + 5).step_by(5) {
        let page = shop
            .list(&format!("/api/products?limit=5&offset={offset}"))
            .await;
        assert_eq!(page.total, total, "total is every match, not the page size");
        assert!(ids(&page).len() <= 5);
        walked.extend(ids(&page));
    }
    assert_eq!(walked, all_ids);

    let past_the_end = shop.list("/api/products?offset=1000000").await;
    assert_eq!(past_the_end.results.len(), 0);
    assert_eq!(past_the_end.total, total);
    let (status, capped) = shop.get("/api/products?limit=5000").await;
    assert_eq!(status, 200, "a limit over the maximum is capped: {capped}");
    let form_numbers = shop.list("/api/products?limit=%203%20&offset=1").await;
    assert_eq!(ids(&form_numbers), all_ids[1..4]);
}

#[testkit::both_backends]
async fn bad_limits_and_offsets_are_422_naming_the_field(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=3x", "limit"),
        ("limit=1.5", "limit"),
        ("limit=99999999999999999999999", "limit"),
        ("offset=-1", "offset"),
        ("offset=abc", "offset"),
    ] {
        let (status, body) = shop.get(&format!("/api/products?{query}")).await;
        let error = assert_error(status, &body, 422, "validation_failed");
        let fields = error.fields.unwrap_or_default();
        assert!(fields.contains_key(field), "{query}: {body}");
    }
}

#[testkit::both_backends]
async fn a_product_is_the_same_by_id_by_slug_and_in_the_list(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let page = shop.list("/api/products").await;
    for listed in &page.results {
        let (status, by_id) = shop.get(&format!("/api/product/{}", listed.id)).await;
        assert_eq!(status, 200, "{by_id}");
        let (status, by_slug) = shop.get(&format!("/api/product/{}", listed.slug)).await;
        assert_eq!(status, 200, "{by_slug}");
        assert_eq!(&testkit::result::<Product>(&by_id), listed);
        // Compared whole, as raw JSON: the same bytes by id and by slug.
        assert_eq!(by_slug, by_id);
    }
    let (status, shouted) = shop.get("/api/product/STONEWARE-MUG").await;
    assert_eq!(
        status, 200,
        "slugs are lowercase, so the lookup is too: {shouted}"
    );
    assert_eq!(testkit::result::<Product>(&shouted).slug, "stoneware-mug");
}

#[testkit::both_backends]
async fn unknown_products_are_404(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let long = "x".repeat(300);
    for path in [
        "999999",
        "0",
        "00001",
        "99999999999999999999999999",
        "-1",
        "no-such-thing",
        "%C3%A9t%C3%A9",
        "a%20b",
        "%25_%5C",
        long.as_str(),
    ] {
        let (status, body) = shop.get(&format!("/api/product/{path}")).await;
        if path == "00001" {
            assert_eq!(status, 200, "leading zeros still read as the id: {body}");
            continue;
        }
        assert_error(status, &body, 404, "not_found");
    }
    let (status, body) = shop.get("/api/product/").await;
    assert_error(status, &body, 404, "not_found");
}
