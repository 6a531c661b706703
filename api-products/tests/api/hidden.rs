//! Hidden products (contract v1.2): left out of lists and 404 by id or slug
//! for everyone but admins; `include_hidden=true` lists them for admins only.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::{ListBody, Product};
use testkit::{assert_error, client, json, Backend};

use crate::support::{product, Shop};

#[testkit::both_backends]
async fn hidden_products_are_invisible_to_shoppers(backend: testkit::Backend) {
    invisible_to_shoppers(backend).await;
}

#[testkit::both_backends]
async fn admins_see_hidden_products_by_id_slug_and_with_include_hidden(backend: testkit::Backend) {
    visible_to_admins(backend).await;
}

#[testkit::both_backends]
async fn an_unhidden_product_is_back_for_everyone(backend: testkit::Backend) {
    unhidden(backend).await;
}

#[testkit::both_backends]
async fn the_total_is_what_is_listed_through_adds_hides_and_unhides(backend: testkit::Backend) {
    totals_follow_changes(backend).await;
}

/// `GET` with an optional token.
async fn get_as(shop: &Shop, token: Option<&str>, path: &str) -> (StatusCode, Value) {
    let mut request = client().get(shop.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    json(request.send().await.expect("get")).await
}

/// The list at `path` as `token` sees it.
async fn list_as(shop: &Shop, token: Option<&str>, path: &str) -> ListBody<Product> {
    let (status, page) = get_as(shop, token, path).await;
    assert_eq!(status, 200, "{path}: {page}");
    testkit::decode(&page)
}

/// A new product, hidden at once; returns it.
async fn hidden_product(shop: &Shop, admin: &str, name: &str) -> Product {
    let id = shop.add(admin, &product(name, 900)).await.id;
    let hidden = shop.change(admin, id, &json!({"hidden": true})).await;
    assert!(hidden.hidden);
    hidden
}

async fn invisible_to_shoppers(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let shopper = shop.shopper().await;
    let before = list_as(&shop, None, "/api/products").await;
    let secret = hidden_product(&shop, &admin, "Secret Saucer").await;
    let id_path = format!("/api/product/{}", secret.id);
    let slug_path = format!("/api/product/{}", secret.slug);

    for token in [None, Some(shopper.as_str()), Some("not-a-real-token")] {
        for path in ["/api/products", "/api/products?include_hidden=true"] {
            let page = list_as(&shop, token, path).await;
            assert_eq!(page, before, "{path} as {token:?}");
        }
        let page = list_as(&shop, token, "/api/products?q=saucer").await;
        assert_eq!(page.total, 0, "search leaves it out too");
        for path in [&id_path, &slug_path] {
            let (status, answer) = get_as(&shop, token, path).await;
            assert_error(status, &answer, 404, "not_found");
        }
    }
}

async fn visible_to_admins(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let all = list_as(&shop, None, "/api/products").await;
    let secret = hidden_product(&shop, &admin, "Secret Saucer").await;

    let plain = list_as(&shop, Some(&admin), "/api/products").await;
    assert_eq!(plain, all, "without include_hidden an admin sees the shop");
    let every = "/api/products?include_hidden=true";
    let with_hidden = list_as(&shop, Some(&admin), every).await;
    assert_eq!(
        with_hidden.total,
        all.total + 1,
        "total counts what is shown"
    );
    assert_eq!(with_hidden.results.last(), Some(&secret));
    let searched = "/api/products?include_hidden=true&q=SAUCER";
    let found = list_as(&shop, Some(&admin), searched).await;
    assert_eq!(found.results, vec![secret.clone()]);
    let hidden_off = "/api/products?include_hidden=false&q=saucer";
    assert_eq!(list_as(&shop, Some(&admin), hidden_off).await.total, 0);

    assert_eq!(shop.product(&admin, secret.id).await, secret);
    let slug_path = format!("/api/product/{}", secret.slug);
    let (status, by_slug) = get_as(&shop, Some(&admin), &slug_path).await;
    assert_eq!(status, 200, "{by_slug}");
    assert!(testkit::result::<Product>(&by_slug).hidden);

    let (status, answer) = get_as(&shop, None, "/api/products?include_hidden=maybe").await;
    assert_error(status, &answer, 422, "validation_failed");
}

async fn unhidden(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let secret = hidden_product(&shop, &admin, "Secret Saucer").await;
    let back = shop
        .change(&admin, secret.id, &json!({"hidden": false}))
        .await;
    assert!(!back.hidden);
    let (status, answer) = get_as(&shop, None, &format!("/api/product/{}", secret.id)).await;
    assert_eq!(status, 200, "{answer}");
    let found = list_as(&shop, None, "/api/products?q=saucer").await;
    assert_eq!(found.results, vec![back]);
}

/// The unsearched `total` comes from counts the database keeps (not a count per
/// request): after every change it must still be the number of products listed.
async fn totals_follow_changes(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let check = |step: &'static str| {
        let (shop, admin) = (&shop, admin.clone());
        async move {
            for (token, path) in [
                (None, "/api/products?limit=1000"),
                (
                    Some(admin.as_str()),
                    "/api/products?limit=1000&include_hidden=true",
                ),
            ] {
                let page = list_as(shop, token, path).await;
                assert_eq!(page.total, page.results.len() as i64, "{step}: {path}");
            }
            list_as(shop, None, "/api/products?limit=1000").await.total
        }
    };
    let at_start = check("the demo catalogue").await;
    let id = shop.add(&admin, &product("Count Me In", 500)).await.id;
    assert_eq!(check("added").await, at_start + 1);
    for _ in 0..2 {
        shop.change(&admin, id, &json!({"hidden": true})).await;
        assert_eq!(check("hidden (again)").await, at_start);
    }
    shop.change(&admin, id, &json!({"price": 600})).await;
    assert_eq!(check("a hidden product's price changed").await, at_start);
    shop.change(&admin, id, &json!({"hidden": false})).await;
    assert_eq!(check("unhidden").await, at_start + 1);
}
