//! The product pictures: every image URL loads, as an image.

use serde_json::json;
use testkit::{assert_error, client, json};

use crate::support::{product, Shop};

#[testkit::both_backends]
async fn every_catalogue_image_url_loads_as_an_svg(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let page = shop.list("/api/products").await;
    for p in &page.results {
        let url = p.image.as_str();
        let response = client().get(url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let headers = response.headers().clone();
        assert_eq!(
            headers.get("content-type").unwrap(),
            "image/svg+xml",
            "{url}"
        );
        assert!(
            headers
                .get("cache-control")
                .unwrap()
                .to_str()
                .unwrap()
                .contains("max-age="),
            "{url}"
        );
        let etag = headers.get("etag").expect("etag").clone();
        let svg = response.text().await.unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{url}"
        );
        let again = client()
            .get(url)
            .header("If-None-Match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{url}");
    }
}

#[testkit::both_backends]
async fn unknown_images_are_404_json(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    for path in [
        "/images/nope.svg",
        "/images/..%2FCargo.toml",
        "/images/",
        "/images/stoneware-mug.png",
    ] {
        let (status, body) = json(client().get(shop.url(path)).send().await.unwrap()).await;
        assert_error(status, &body, 404, "not_found");
    }
}

#[testkit::both_backends]
async fn a_product_added_without_an_image_gets_the_placeholder(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    let p = shop.add(&token, &product("Plain Bowl", 900)).await;
    let url = p.image.as_str();
    assert_eq!(url, shop.url("/images/placeholder.svg"));
    let response = client().get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "image/svg+xml"
    );
    let own = shop
        .add(
            &token,
            &json!({"name": "Mug Twin", "price": 1, "image": "/images/stoneware-mug.svg"}),
        )
        .await;
    assert_eq!(own.image, shop.url("/images/stoneware-mug.svg"));
}

#[testkit::both_backends]
async fn public_url_makes_image_urls_absolute_for_other_origins(backend: testkit::Backend) {
    let shop = Shop::start_with(
        backend,
        &[("PUBLIC_URL", "https://shop.example.com/products/".into())],
    )
    .await;
    assert_eq!(
        shop.find("stoneware-mug").await.image,
        "https://shop.example.com/products/images/stoneware-mug.svg"
    );
    let token = shop.admin().await;
    let elsewhere = shop
        .add(
            &token,
            &json!({"name": "Remote Pic", "price": 1, "image": "http://img.example.org/a.png"}),
        )
        .await;
    assert_eq!(
        elsewhere.image, "http://img.example.org/a.png",
        "absolute URLs are kept as given"
    );
}
