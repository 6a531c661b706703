//! Managing the catalogue (contract v1.2): stock at creation, and
//! `PATCH /api/product/{id}`: admins only, each field by the rules of
//! creation, every invalid one named, 404 and 409 as for creation.

use serde_json::{json, Value};
use shared::{Product, ProductCreated};
use testkit::{assert_error, client, decode, json, result, Backend};

use crate::support::{product, Shop};

#[testkit::both_backends]
async fn stock_is_given_at_creation_or_not_tracked(backend: testkit::Backend) {
    stock_at_creation(backend).await;
}

#[testkit::both_backends]
async fn an_admin_changes_each_field_alone(backend: testkit::Backend) {
    each_field_alone(backend).await;
}

#[testkit::both_backends]
async fn an_admin_changes_several_fields_at_once_with_json_or_a_form(backend: testkit::Backend) {
    several_fields_at_once(backend).await;
}

#[testkit::both_backends]
async fn an_empty_patch_answers_the_product_unchanged(backend: testkit::Backend) {
    empty_patch(backend).await;
}

#[testkit::both_backends]
async fn null_stock_stops_tracking_and_a_number_starts_again(backend: testkit::Backend) {
    null_stock(backend).await;
}

#[testkit::both_backends]
async fn invalid_changes_are_422_naming_every_field_and_change_nothing(backend: testkit::Backend) {
    invalid_changes(backend).await;
}

#[testkit::both_backends]
async fn patching_needs_a_live_admin_token(backend: testkit::Backend) {
    needs_an_admin(backend).await;
}

#[testkit::both_backends]
async fn only_known_ids_can_be_patched(backend: testkit::Backend) {
    unknown_ids(backend).await;
}

#[testkit::both_backends]
async fn a_slug_or_name_taken_by_another_product_is_409(backend: testkit::Backend) {
    taken_slug_or_name(backend).await;
}

async fn stock_at_creation(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let counted = shop.stocked(&admin, "Counted Cup", Some(12)).await;
    assert_eq!(shop.product(&admin, counted).await.stock, Some(12));
    shop.stocked(&admin, "Sold Out Cup", Some(0)).await;
    shop.stocked(&admin, "Huge Stock Cup", Some(1_000_000))
        .await;
    let untracked = shop.stocked(&admin, "Untracked Cup", None).await;
    // Raw JSON: `stock` and `hidden` must be on the wire, where the DTO
    // would read them as `None` and `false` if they were left out.
    let (status, created) = shop.create(&admin, &product("Plain Cup", 100)).await;
    assert_eq!(status, 201, "{created}");
    let plain = &created["product"];
    assert_eq!(
        plain.get("stock"),
        Some(&Value::Null),
        "absent stock: not tracked"
    );
    assert_eq!(plain["hidden"], false);
    assert_eq!(shop.product(&admin, untracked).await.stock, None);

    for stock in [
        json!(-1),
        json!(1_000_001),
        json!("3x"),
        json!(1.5),
        json!(true),
    ] {
        let mut body = product("Bad Stock Cup", 100);
        body["stock"] = stock.clone();
        let (status, answer) = shop.create(&admin, &body).await;
        let error = assert_error(status, &answer, 422, "validation_failed");
        assert!(
            error.fields.unwrap_or_default().contains_key("stock"),
            "{stock}: {answer}"
        );
    }
    let form = client()
        .post(shop.url("/api/product/create"))
        .bearer_auth(&admin)
        .form(&[("name", "Form Stock Cup"), ("price", "100"), ("stock", "7")]);
    let (status, answer) = json(form.send().await.unwrap()).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(decode::<ProductCreated>(&answer).product.stock, Some(7));
}

/// What a patch should do to the product (given its image URL base).
type Edit = fn(&mut Product, &str);

async fn each_field_alone(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let id = shop.stocked(&admin, "Willow Basket", Some(4)).await;
    let before = shop.product(&admin, id).await;
    let image = shop.url("/images/oak-serving-board.svg");
    let changes: [(Value, Edit); 8] = [
        (json!({"name": "  Wicker   Basket "}), |p, _| {
            p.name = "Wicker Basket".into()
        }),
        (json!({"slug": "wicker-basket"}), |p, _| {
            p.slug = "wicker-basket".into()
        }),
        (json!({"price": 2599}), |p, _| p.price = 2599),
        (json!({"description": " Woven by hand. "}), |p, _| {
            p.description = "Woven by hand.".into()
        }),
        (
            json!({"image": "/images/oak-serving-board.svg"}),
            |p, image| p.image = image.into(),
        ),
        (json!({"stock": 0}), |p, _| p.stock = Some(0)),
        (json!({"hidden": true}), |p, _| p.hidden = true),
        (json!({"hidden": false}), |p, _| p.hidden = false),
    ];
    let mut expected = before;
    for (body, change) in changes {
        change(&mut expected, &image);
        let changed = shop.change(&admin, id, &body).await;
        assert_eq!(changed, expected, "after {body}");
        assert_eq!(shop.product(&admin, id).await, expected, "stored: {body}");
    }
    let found = shop.list("/api/products?q=wicker").await;
    assert_eq!(found.total, 1, "search follows the new name: {found:?}");
    let (status, _) = shop.get("/api/product/wicker-basket").await;
    assert_eq!(status, 200, "the new slug finds it");
    let (status, _) = shop.get("/api/product/willow-basket").await;
    assert_eq!(status, 404, "the old slug does not");
}

async fn several_fields_at_once(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let id = shop.stocked(&admin, "Clay Pot", Some(9)).await;
    let body = json!({"price": 700, "stock": 2, "image": "", "description": ""});
    let changed = shop.change(&admin, id, &body).await;
    assert_eq!((changed.price, changed.stock), (700, Some(2)));
    assert_eq!(changed.image, shop.url("/images/placeholder.svg"));
    assert_eq!(changed.description, "", "a blank description clears it");
    assert_eq!(changed.name, "Clay Pot", "fields not given stay");

    let form = client()
        .patch(shop.url(&format!("/api/product/{id}")))
        .bearer_auth(&admin)
        .form(&[("price", "750"), ("hidden", "true"), ("stock", "5")]);
    let (status, answer) = json(form.send().await.unwrap()).await;
    assert_eq!(status, 200, "{answer}");
    let changed: Product = result(&answer);
    assert_eq!((changed.price, changed.hidden), (750, true));
    assert_eq!(changed.stock, Some(5));
}

async fn empty_patch(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let before = shop.product(&admin, 1).await;
    assert_eq!(shop.change(&admin, 1, &json!({})).await, before);
    let nulls = json!({"name": null, "price": null, "hidden": null});
    assert_eq!(
        shop.change(&admin, 1, &nulls).await,
        before,
        "null is absent"
    );
    let (status, answer) = shop.patch(&admin, "999999", &json!({})).await;
    assert_error(status, &answer, 404, "not_found");
}

async fn null_stock(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let id = shop.stocked(&admin, "Tin Cup", Some(3)).await;
    let changed = shop.change(&admin, id, &json!({"stock": null})).await;
    assert_eq!(changed.stock, None, "null: not tracked any more");
    let changed = shop.change(&admin, id, &json!({"price": 10})).await;
    assert_eq!(changed.stock, None, "absent: left as it is");
    let changed = shop.change(&admin, id, &json!({"stock": "8"})).await;
    assert_eq!(changed.stock, Some(8), "a number tracks it again");
}

async fn invalid_changes(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let id = shop.stocked(&admin, "Steady Stool", Some(5)).await;
    let before = shop.product(&admin, id).await;
    let everything_wrong = json!({
        "name": " ",
        "slug": "Not A Slug",
        "price": -5,
        "image": "ftp://example.com/x.png",
        "description": "x".repeat(2001),
        "stock": -1,
        "hidden": false,
    });
    let (status, answer) = shop.patch(&admin, &id.to_string(), &everything_wrong).await;
    let error = assert_error(status, &answer, 422, "validation_failed");
    let named: Vec<String> = error.fields.unwrap_or_default().into_keys().collect();
    let all = ["description", "image", "name", "price", "slug", "stock"];
    assert_eq!(named, all, "{answer}");

    for (body, field) in [
        (json!({"slug": ""}), "slug"),
        (json!({"slug": "   "}), "slug"),
        (json!({"slug": "123"}), "slug"),
        (json!({"name": "x".repeat(101)}), "name"),
        (json!({"name": "Tab\tName"}), "name"),
        (json!({"price": 100_000_001}), "price"),
        (json!({"price": "12x"}), "price"),
        (json!({"image": "/images/nope.svg"}), "image"),
        (json!({"description": "bell\u{7}"}), "description"),
        (json!({"stock": 1_000_001}), "stock"),
        (json!({"stock": 2.5}), "stock"),
        (json!({"hidden": "maybe"}), "hidden"),
        (json!({"hidden": 1}), "hidden"),
        (json!({"price": 1, "stock": -1}), "stock"),
    ] {
        let (status, answer) = shop.patch(&admin, &id.to_string(), &body).await;
        let error = assert_error(status, &answer, 422, "validation_failed");
        assert!(
            error.fields.unwrap_or_default().contains_key(field),
            "{body}: {answer}"
        );
    }
    assert_eq!(shop.product(&admin, id).await, before, "nothing changed");
}

async fn needs_an_admin(backend: Backend) {
    let shop = Shop::start(backend).await;
    let body = json!({"price": 1});
    let anonymous = client().patch(shop.url("/api/product/1")).json(&body);
    let (status, answer) = json(anonymous.send().await.unwrap()).await;
    assert_eq!(status, 401, "{answer}");
    let (status, answer) = shop.patch("not-a-real-token", "1", &body).await;
    assert_eq!(status, 401, "{answer}");
    let shopper = shop.shopper().await;
    let (status, answer) = shop.patch(&shopper, "1", &body).await;
    assert_error(status, &answer, 403, "forbidden");
    let (status, answer) = shop.patch(&shop.service_token, "1", &body).await;
    assert_eq!(status, 401, "the service token is no user's: {answer}");
    assert_ne!(shop.find("1").await.price, 1, "nothing changed");
}

async fn unknown_ids(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let long = "9".repeat(30);
    let ids = ["999999", "0", "stoneware-mug", "-1", "1x", long.as_str()];
    for id in ids {
        let (status, answer) = shop.patch(&admin, id, &json!({"price": 5})).await;
        assert_error(status, &answer, 404, "not_found");
    }
    assert_eq!(
        shop.find("stoneware-mug").await.price,
        1800,
        "a slug does not address a patch"
    );
}

async fn taken_slug_or_name(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let id = shop.stocked(&admin, "Copper Jug", Some(2)).await;
    let before = shop.product(&admin, id).await;
    let path = id.to_string();
    for (body, code) in [
        (json!({"slug": "stoneware-mug"}), "slug_taken"),
        (json!({"name": "STONEWARE  mug"}), "name_taken"),
        (
            json!({"name": "Glass Teapot", "slug": "stoneware-mug"}),
            "slug_taken",
        ),
        (json!({"name": "Glass Teapot", "stock": 1}), "name_taken"),
    ] {
        let (status, answer) = shop.patch(&admin, &path, &body).await;
        assert_error(status, &answer, 409, code);
    }
    assert_eq!(shop.product(&admin, id).await, before, "nothing changed");
    let same = json!({"name": "COPPER JUG", "slug": "copper-jug"});
    let changed = shop.change(&admin, id, &same).await;
    assert_eq!(
        changed.name, "COPPER JUG",
        "its own name and slug are no clash"
    );
}
