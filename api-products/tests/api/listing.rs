//! Contract v1.3 on `GET /api/products`: `sort` orders the list (ties by id)
//! and `ids` fetches exactly those products, leaving out unknown and hidden
//! ones; an unknown `sort` or bad `ids` is a 422 naming it.

use serde_json::json;
use shared::{ListBody, Product};
use testkit::{assert_error, client, decode, json, Backend};

use crate::support::{ids, names, product, Shop};

/// The whole catalogue in the order of `sort`.
async fn sorted(shop: &Shop, sort: &str) -> Vec<Product> {
    shop.list(&format!("/api/products?sort={sort}"))
        .await
        .results
}

#[testkit::both_backends]
async fn sort_orders_by_price_name_or_id_with_ties_by_id(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    // Two more at the price of the demo's Stoneware Mug (1800): ties.
    shop.add(&admin, &product("apple crate", 1800)).await;
    shop.add(&admin, &product("Zinc Bucket", 1800)).await;
    let by_id = shop.list("/api/products").await;

    assert_eq!(sorted(&shop, "id").await, by_id.results);
    let mut newest_first = by_id.results.clone();
    newest_first.reverse();
    assert_eq!(sorted(&shop, "-id").await, newest_first);

    let mut expected = by_id.results.clone();
    expected.sort_by_key(|p| (p.price, p.id));
    assert_eq!(ids_of(&sorted(&shop, "price").await), ids_of(&expected));
    expected.sort_by_key(|p| (std::cmp::Reverse(p.price), p.id));
    assert_eq!(ids_of(&sorted(&shop, "-price").await), ids_of(&expected));

    // By name whatever its case: "apple crate" first, "Zinc Bucket" last.
    expected.sort_by_key(|p| p.name.to_lowercase());
    let by_name = sorted(&shop, "name").await;
    assert_eq!(ids_of(&by_name), ids_of(&expected));
    assert_eq!(by_name[0].name, "apple crate");
    expected.reverse();
    assert_eq!(ids_of(&sorted(&shop, "-name").await), ids_of(&expected));

    // Paged after sorting; a search sorted too.
    let page = shop
        .list("/api/products?sort=-price&limit=3&offset=2")
        .await;
    assert_eq!(page.total, by_id.total);
    assert_eq!(ids(&page), ids_of(&sorted(&shop, "-price").await)[2..5]);
    let mugs = shop.list("/api/products?q=mug&sort=-name").await;
    assert_eq!(names(&mugs), ["Stoneware Mug"]);
    let sets = shop.list("/api/products?q=set%20of&sort=-id").await;
    assert_eq!(
        names(&sets),
        ["Wool Felt Coasters, Set of 4", "Espresso Cups, Set of 2"]
    );

    // A price changed here sorts at once.
    let cheapest = shop.add(&admin, &product("Penny Sweet", 2)).await;
    assert_eq!(sorted(&shop, "price").await[0].id, cheapest.id);
    shop.change(&admin, cheapest.id, &json!({"price": 99_000}))
        .await;
    assert_eq!(sorted(&shop, "-price").await[0].id, cheapest.id);
}

fn ids_of(products: &[Product]) -> Vec<i64> {
    products.iter().map(|p| p.id).collect()
}

#[testkit::both_backends]
async fn an_unknown_sort_is_a_422_naming_sort(backend: Backend) {
    let shop = Shop::start(backend).await;
    for bad in ["cheap", "PRICE", "price_asc", "%20price", "-", "id,name"] {
        let (status, body) = shop.get(&format!("/api/products?sort={bad}")).await;
        let error = assert_error(status, &body, 422, "validation_failed");
        let fields = error.fields.unwrap_or_default();
        assert!(fields.contains_key("sort"), "{bad}: {body}");
    }
    let blank = shop.list("/api/products?sort=").await;
    assert_eq!(blank, shop.list("/api/products").await, "blank: by id");
}

#[testkit::both_backends]
async fn ids_fetch_those_products_and_leave_out_unknown_and_hidden_ones(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let hidden = shop.add(&admin, &product("Hidden Mug", 700)).await;
    shop.change(&admin, hidden.id, &json!({"hidden": true}))
        .await;

    let path = format!("/api/products?ids=5,{},2,999999,5,0", hidden.id);
    let page = shop.list(&path).await;
    assert_eq!(ids(&page), [2, 5], "by id, each once, never an error");
    assert_eq!(page.total, 2);
    let sorted = shop.list(&format!("{path}&sort=price")).await;
    assert_eq!(ids(&sorted), [5, 2], "the Linen Tea Towel (1400) first");
    let searched = shop.list("/api/products?ids=1,2,3&q=glass").await;
    assert_eq!(names(&searched), ["Glass Teapot"]);
    let paged = shop.list("/api/products?ids=1,2,3&limit=1&offset=1").await;
    assert_eq!((ids(&paged), paged.total), (vec![2], 3));

    // An admin asking for hidden products gets them.
    let request = client()
        .get(shop.url(&format!("{path}&include_hidden=true")))
        .bearer_auth(&admin);
    let (status, body) = json(request.send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let with_hidden: ListBody<Product> = decode(&body);
    assert_eq!(ids(&with_hidden), [2, 5, hidden.id]);

    let nothing = shop.list("/api/products?ids=0,999999").await;
    assert_eq!((nothing.results.len(), nothing.total), (0, 0));

    // At most 100 ids, each a number.
    let hundred: Vec<String> = (1..=100).map(|n| n.to_string()).collect();
    let all = shop
        .list(&format!("/api/products?ids={}", hundred.join(",")))
        .await;
    assert_eq!(all.total, 13, "the demo catalogue");
    for bad in [
        format!("{},101", hundred.join(",")),
        String::new(),
        "1,,2".into(),
        "1,x".into(),
        "-3".into(),
        "1%202".into(),
    ] {
        let (status, body) = shop.get(&format!("/api/products?ids={bad}")).await;
        let error = assert_error(status, &body, 422, "validation_failed");
        let fields = error.fields.unwrap_or_default();
        assert!(fields.contains_key("ids"), "{bad}: {body}");
    }
}
