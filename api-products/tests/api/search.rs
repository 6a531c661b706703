//! `GET /api/products?q=`: a literal, case-insensitive "name contains".

use serde_json::json;
use shared::{ListBody, Product};
use testkit::assert_error;

use crate::support::{names, product, Shop};

/// `q` as a query string value.
fn q(term: &str) -> String {
    let encoded: String = term.bytes().map(|b| format!("%{b:02X}")).collect();
    format!("/api/products?q={encoded}")
}

#[testkit::both_backends]
async fn search_matches_names_whatever_their_case_and_counts_every_match(
    backend: testkit::Backend,
) {
    let shop = Shop::start(backend).await;
    let page = shop.list(&q("MUG")).await;
    assert_eq!(names(&page), ["Stoneware Mug"]);
    assert_eq!(page.total, 1);

    let sets = shop.list(&q("set of")).await;
    assert_eq!(
        names(&sets),
        ["Espresso Cups, Set of 2", "Wool Felt Coasters, Set of 4"]
    );
    let first = shop.list(&format!("{}&limit=1", q("SET OF"))).await;
    assert_eq!(names(&first), ["Espresso Cups, Set of 2"]);
    assert_eq!(first.total, 2, "total counts every match: {first:?}");
    let second = shop
        .list(&format!("{}&limit=1&offset=1", q("Set Of")))
        .await;
    assert_eq!(names(&second), ["Wool Felt Coasters, Set of 4"]);

    let (_, none) = shop.get(&q("zeppelin")).await;
    // The whole body, as raw JSON: an empty page and nothing else.
    assert_eq!(none, json!({"results": [], "total": 0}));
    let blank = shop.list("/api/products?q=%20%20").await;
    let everything = shop.list("/api/products").await;
    assert_eq!(blank, everything, "a blank q filters nothing");
}

#[testkit::both_backends]
async fn percent_underscore_and_backslash_are_plain_characters(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    shop.add(&token, &product("100% Cotton Apron", 2500)).await;
    shop.add(
        &token,
        &json!({"name": "Tea_Towel Deluxe", "slug": "tea-towel-deluxe", "price": 900}),
    )
    .await;
    shop.add(&token, &json!({"name": "Back\\slash Bowl", "price": 1100}))
        .await;

    for (term, expected) in [
        ("%", vec!["100% Cotton Apron"]),
        ("0% c", vec!["100% Cotton Apron"]),
        ("_", vec!["Tea_Towel Deluxe"]),
        ("A_T", vec!["Tea_Towel Deluxe"]),
        ("\\", vec!["Back\\slash Bowl"]),
        ("\\S", vec!["Back\\slash Bowl"]),
        ("%%", vec![]),
        ("e%", vec![]),
        ("s_t", vec![]),
        ("\\%", vec![]),
        ("'", vec![]),
    ] {
        let (status, page) = shop.get(&q(term)).await;
        assert_eq!(status, 200, "{term}: {page}");
        let page: ListBody<Product> = testkit::decode(&page);
        assert_eq!(names(&page), expected, "q={term:?}");
        assert_eq!(page.total, expected.len() as i64, "q={term:?}");
    }
}

#[testkit::both_backends]
async fn search_is_case_insensitive_beyond_ascii(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    shop.add(&token, &json!({"name": "Crème Brûlée Dish", "price": 1900}))
        .await;
    shop.add(&token, &json!({"name": "ÉCLAIR TRAY", "price": 2100}))
        .await;
    let page = shop.list(&q("BRÛLÉE")).await;
    assert_eq!(names(&page), ["Crème Brûlée Dish"]);
    let page = shop.list(&q("éclair")).await;
    assert_eq!(names(&page), ["ÉCLAIR TRAY"]);
}

#[testkit::both_backends]
async fn search_terms_longer_than_100_characters_are_422(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let (status, page) = shop.get(&q(&"é".repeat(100))).await;
    assert_eq!(status, 200, "{page}");
    let (status, body) = shop.get(&q(&"x".repeat(101))).await;
    let error = assert_error(status, &body, 422, "validation_failed");
    assert!(error.fields.unwrap_or_default().contains_key("q"), "{body}");
}
