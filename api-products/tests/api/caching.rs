//! HTTP revalidation: ETags and 304s while the catalogue is unchanged.

use reqwest::StatusCode;
use testkit::client;

use crate::support::{product, Shop};

/// Status, ETag and body length of a GET with an optional `If-None-Match`.
async fn fetch(
    shop: &Shop,
    path: &str,
    if_none_match: Option<&str>,
) -> (StatusCode, String, usize) {
    let mut request = client().get(shop.url(path));
    if let Some(tag) = if_none_match {
        request = request.header("If-None-Match", tag);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    assert_eq!(
        headers.get("cache-control").unwrap(),
        "no-cache",
        "{path}: clients must revalidate"
    );
    let etag = headers
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_owned();
    let length = response.bytes().await.unwrap().len();
    (status, etag, length)
}

#[testkit::both_backends]
async fn unchanged_reads_revalidate_to_304_and_a_new_product_changes_the_tag(
    backend: testkit::Backend,
) {
    let shop = Shop::start(backend).await;
    for path in [
        "/api/products",
        "/api/products?q=mug&limit=5",
        "/api/product/1",
        "/api/product/stoneware-mug",
    ] {
        let (status, etag, length) = fetch(&shop, path, None).await;
        assert_eq!(status, 200);
        assert!(length > 0);
        let (status, again, length) = fetch(&shop, path, Some(&etag)).await;
        assert_eq!(status, 304, "{path}");
        assert_eq!(length, 0, "a 304 has no body");
        assert_eq!(again, etag);
        let (status, _, _) = fetch(&shop, path, Some(&format!("W/{etag}, \"other\""))).await;
        assert_eq!(status, 304, "{path}: weak comparison, lists of tags");
        let (status, _, _) = fetch(&shop, path, Some("\"stale\"")).await;
        assert_eq!(status, 200, "{path}");
    }

    let (_, list_tag, _) = fetch(&shop, "/api/products", None).await;
    let (_, mug_tag, _) = fetch(&shop, "/api/product/stoneware-mug", None).await;
    let token = shop.admin().await;
    shop.add(&token, &product("Cache Buster Cup", 1500)).await;
    let (status, new_tag, _) = fetch(&shop, "/api/products", Some(&list_tag)).await;
    assert_eq!(status, 200, "the list changed");
    assert_ne!(new_tag, list_tag);
    let (status, _, _) = fetch(&shop, "/api/products", Some(&new_tag)).await;
    assert_eq!(status, 304);
    let (status, _, _) = fetch(&shop, "/api/product/stoneware-mug", Some(&mug_tag)).await;
    assert_eq!(status, 304, "an untouched product is still fresh");
}
