//! Reading the catalogue: the demo products, the list, lookups by id and slug.

use std::collections::HashSet;

use testkit::assert_error;

use crate::support::{ids, Shop};

#[testkit::both_backends]
async fn a_fresh_database_starts_with_the_demo_catalogue(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let (status, page) = shop.get("/api/products").await;
    assert_eq!(status, 200, "{page}");
    let products = page["results"].as_array().unwrap();
    assert!(products.len() >= 12, "{page}");
    assert_eq!(page["total"], products.len() as i64);
    let mut slugs = HashSet::new();
    for p in products {
        assert!(p["name"].as_str().unwrap().len() >= 5, "{p}");
        assert!(p["description"].as_str().unwrap().len() >= 40, "{p}");
        assert!(p["price"].as_i64().unwrap() > 0, "{p}");
        let image = p["image"].as_str().unwrap();
        assert!(
            image.starts_with(&shop.url("/images/")) && image.ends_with(".svg"),
            "{p}"
        );
        assert!(
            slugs.insert(p["slug"].as_str().unwrap().to_owned()),
            "duplicate slug {p}"
        );
    }
    assert!(products.iter().any(|p| p["slug"] == "stoneware-mug"));
}

#[testkit::both_backends]
async fn products_are_listed_by_id_and_paged_with_limit_and_offset(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let (_, all) = shop.get("/api/products").await;
    let all_ids = ids(&all);
    let mut sorted = all_ids.clone();
    sorted.sort();
    assert_eq!(all_ids, sorted);
    let total = all["total"].as_i64().unwrap();

    let mut walked = Vec::new();
    for offset in (0..total + 5).step_by(5) {
        let (status, page) = shop
            .get(&format!("/api/products?limit=5&offset={offset}"))
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(
            page["total"], total,
            "total is every match, not the page size"
        );
        assert!(ids(&page).len() <= 5);
        walked.extend(ids(&page));
    }
    assert_eq!(walked, all_ids);

    let (_, past_the_end) = shop.get("/api/products?offset=1000000").await;
    assert_eq!(past_the_end["results"].as_array().unwrap().len(), 0);
    assert_eq!(past_the_end["total"], total);
    let (status, capped) = shop.get("/api/products?limit=5000").await;
    assert_eq!(status, 200, "a limit over the maximum is capped: {capped}");
    let (status, form_numbers) = shop.get("/api/products?limit=%203%20&offset=1").await;
    assert_eq!(status, 200, "{form_numbers}");
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
        assert_error(status, &body, 422, "validation_failed");
        assert!(body["fields"][field].is_string(), "{query}: {body}");
    }
}

#[testkit::both_backends]
async fn a_product_is_the_same_by_id_by_slug_and_in_the_list(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let (_, page) = shop.get("/api/products").await;
    for listed in page["results"].as_array().unwrap() {
        let (status, by_id) = shop.get(&format!("/api/product/{}", listed["id"])).await;
        assert_eq!(status, 200, "{by_id}");
        let slug = listed["slug"].as_str().unwrap();
        let (status, by_slug) = shop.get(&format!("/api/product/{slug}")).await;
        assert_eq!(status, 200, "{by_slug}");
        assert_eq!(&by_id["result"], listed);
        assert_eq!(by_slug, by_id);
    }
    let (status, shouted) = shop.get("/api/product/STONEWARE-MUG").await;
    assert_eq!(
        status, 200,
        "slugs are lowercase, so the lookup is too: {shouted}"
    );
    assert_eq!(shouted["result"]["slug"], "stoneware-mug");
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
