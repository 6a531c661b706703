//! `POST /api/product/create`: admins only, every field checked, no duplicates.

use futures_util::future::join_all;
use serde_json::json;
use shared::ProductCreated;
use testkit::{assert_error, client, json};

use crate::support::{product, Shop};

#[testkit::both_backends]
async fn an_admin_adds_a_product_with_json(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    let response = client()
        .post(shop.url("/api/product/create"))
        .bearer_auth(&token)
        .json(&json!({
            "name": "  Walnut   Spoon ",
            "price": 850,
            "slug": "walnut-spoon",
            "image": "https://cdn.example.com/spoon.jpg",
            "description": "Carved by hand.\nOiled with linseed.",
        }))
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = testkit::typed::<ProductCreated>(response).await;
    assert_eq!(status, 201, "{body:?}");
    assert_eq!(body.message, "Product added");
    let p = &body.product;
    assert_eq!(
        p.name, "Walnut Spoon",
        "the name is trimmed and its spaces collapsed"
    );
    assert_eq!(p.slug, "walnut-spoon");
    assert_eq!(p.price, 850);
    assert_eq!(p.image, "https://cdn.example.com/spoon.jpg");
    assert_eq!(p.description, "Carved by hand.\nOiled with linseed.");
    assert_eq!(location, Some(format!("/api/product/{}", p.id)));

    assert_eq!(&shop.find("walnut-spoon").await, p);
    let listed = shop.list("/api/products?q=walnut").await;
    assert_eq!(&listed.results[0], p);
}

#[testkit::both_backends]
async fn an_admin_adds_a_product_with_a_form(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    let response = client()
        .post(shop.url("/api/product/create"))
        .bearer_auth(&token)
        .form(&[
            ("name", "Enamel Milk Jug"),
            ("price", "1250"),
            ("slug", ""),
            ("image", "/images/stoneware-mug.svg"),
            ("description", "Half a litre, white with a blue rim."),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 201, "{body}");
    let p = testkit::decode::<ProductCreated>(&body).product;
    assert_eq!(p.price, 1250);
    assert_eq!(
        p.slug, "enamel-milk-jug",
        "an empty form slug is made from the name"
    );
    assert_eq!(p.image, shop.url("/images/stoneware-mug.svg"));
}

#[testkit::both_backends]
async fn the_slug_is_made_from_the_name_when_absent(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    for (name, slug) in [
        ("Pour-Over Dripper (No. 2)", "pour-over-dripper-no-2"),
        ("  Crème Fraîche Pot!  ", "cr-me-fra-che-pot"),
        ("2024", "product-2024"),
    ] {
        let p = shop.add(&token, &product(name, 100)).await;
        assert_eq!(p.slug, slug, "{name}");
        let (status, _) = shop.get(&format!("/api/product/{slug}")).await;
        assert_eq!(status, 200);
    }
    let (status, body) = shop.create(&token, &product("!!! ???", 100)).await;
    let error = assert_error(status, &body, 422, "validation_failed");
    assert!(
        error.fields.unwrap_or_default().contains_key("slug"),
        "a name with nothing to make a slug of: {body}"
    );
}

#[testkit::both_backends]
async fn prices_are_whole_cents_from_zero_to_a_million_units(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    assert_eq!(shop.add(&token, &product("Free Sample", 0)).await.price, 0);
    assert_eq!(
        shop.add(&token, &product("Gold Kettle", 100_000_000))
            .await
            .price,
        100_000_000
    );
    assert_eq!(
        shop.add(&token, &json!({"name": "String Price", "price": "42"}))
            .await
            .price,
        42
    );
    for price in [
        json!(-1),
        json!(100_000_001),
        json!(12.5),
        json!("12x"),
        json!(true),
        json!([1]),
        json!(null),
        json!(""),
    ] {
        let (status, body) = shop
            .create(&token, &json!({"name": "Bad Price", "price": price}))
            .await;
        let error = assert_error(status, &body, 422, "validation_failed");
        let fields = error.fields.unwrap_or_default();
        assert!(fields.contains_key("price"), "price {price}: {body}");
    }
    let (status, body) = shop.create(&token, &json!({"name": "No Price"})).await;
    let error = assert_error(status, &body, 422, "validation_failed");
    assert!(
        error.fields.unwrap_or_default().contains_key("price"),
        "{body}"
    );
}

#[testkit::both_backends]
async fn invalid_fields_are_422_naming_every_one(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    let (status, body) = shop
        .create(
            &token,
            &json!({
                "name": " ",
                "price": -5,
                "slug": "Not A Slug",
                "image": "ftp://example.com/x.png",
                "description": "x".repeat(2001),
            }),
        )
        .await;
    let error = assert_error(status, &body, 422, "validation_failed");
    let fields = error.fields.unwrap_or_default();
    for field in ["name", "price", "slug", "image", "description"] {
        assert!(fields.contains_key(field), "{field}: {body}");
    }

    for (fields, bad) in [
        (json!({"name": "x".repeat(101)}), "name"),
        (json!({"name": "Tab\tName"}), "name"),
        (json!({"name": 5}), "name"),
        (json!({"slug": "123"}), "slug"),
        (json!({"slug": "a".repeat(101)}), "slug"),
        (json!({"slug": "ümlaut"}), "slug"),
        (json!({"image": "/images/nope.svg"}), "image"),
        (json!({"image": "javascript:alert(1)"}), "image"),
        (json!({"image": "https://"}), "image"),
        (
            json!({"image": format!("https://cdn.example.com/{}", "x".repeat(500))}),
            "image",
        ),
        (json!({"description": "bell\u{7}"}), "description"),
    ] {
        let mut body = product("Valid Name", 100);
        for (k, v) in fields.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, answer) = shop.create(&token, &body).await;
        let error = assert_error(status, &answer, 422, "validation_failed");
        let fields = error.fields.unwrap_or_default();
        assert!(fields.contains_key(bad), "{body}: {answer}");
    }
    let page = shop.list("/api/products?q=valid").await;
    assert_eq!(page.total, 0, "nothing invalid was stored");
    shop.add(
        &token,
        &json!({"name": "x".repeat(100), "price": 1, "description": "y".repeat(2000)}),
    )
    .await;
}

#[testkit::both_backends]
async fn creating_needs_a_live_admin_token(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let body = product("Forbidden Fruit Bowl", 1000);
    let anonymous = client()
        .post(shop.url("/api/product/create"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, answer) = json(anonymous).await;
    assert_eq!(status, 401, "{answer}");
    let (status, answer) = shop.create("not-a-real-token", &body).await;
    assert_eq!(status, 401, "{answer}");
    let shopper = shop.shopper().await;
    let (status, answer) = shop.create(&shopper, &body).await;
    assert_error(status, &answer, 403, "forbidden");
    let (status, answer) = shop.create(&shopper, &json!({"name": ""})).await;
    assert_error(status, &answer, 403, "forbidden");

    let admin = shop.admin().await;
    let basic = client()
        .post(shop.url("/api/product/create"))
        .header("Authorization", format!("Basic {admin}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, answer) = json(basic).await;
    assert_eq!(
        status, 201,
        "the course clients' Basic form is accepted: {answer}"
    );

    let logout = client()
        .post(shop.users.url("/api/user/logout"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(4500)).await;
    let (status, answer) = shop.create(&admin, &product("After Logout", 1)).await;
    assert_eq!(
        status, 401,
        "a revoked admin token is refused within 5 s: {answer}"
    );
}

#[testkit::both_backends]
async fn a_taken_slug_or_name_is_409(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    shop.add(
        &token,
        &json!({"name": "Alpha Jar", "slug": "jar-1", "price": 100}),
    )
    .await;

    let (status, body) = shop
        .create(
            &token,
            &json!({"name": "Beta Jar", "slug": "jar-1", "price": 100}),
        )
        .await;
    assert_error(status, &body, 409, "slug_taken");
    let (status, body) = shop
        .create(
            &token,
            &json!({"name": "ALPHA   jar", "slug": "jar-2", "price": 100}),
        )
        .await;
    assert_error(status, &body, 409, "name_taken");
    let (status, body) = shop
        .create(
            &token,
            &json!({"name": "Alpha Jar", "slug": "jar-1", "price": 100}),
        )
        .await;
    assert_error(status, &body, 409, "slug_taken");
    let (status, body) = shop.create(&token, &product("stoneware MUG", 100)).await;
    assert_error(status, &body, 409, "slug_taken");
    let (status, body) = shop
        .create(
            &token,
            &json!({"name": "Stoneware Mug", "slug": "mug-2", "price": 1}),
        )
        .await;
    assert_error(status, &body, 409, "name_taken");
    assert_eq!(shop.list("/api/products?q=jar").await.total, 1);
}

#[testkit::both_backends]
async fn concurrent_duplicates_make_exactly_one_product(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    let body = product("Racing Teacup", 700);
    let answers = join_all((0..12).map(|_| shop.create(&token, &body))).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    for (status, answer) in answers.iter().filter(|(s, _)| *s != 201) {
        assert_error(*status, answer, 409, "slug_taken");
    }
    assert_eq!(shop.list("/api/products?q=racing").await.total, 1);
}
