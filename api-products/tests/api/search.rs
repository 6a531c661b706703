//! `GET /api/products?q=`: a literal, case-insensitive "name contains".

use serde_json::{json, Value};
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

/// `GET path` on `service`, as `admin` when given: the status and raw body,
/// with the service's own address taken out of the image URLs.
async fn read(service: &testkit::Service, path: &str, admin: Option<&str>) -> (u16, Value) {
    let mut request = testkit::client().get(service.url(path));
    if let Some(token) = admin {
        request = request.bearer_auth(token);
    }
    let (status, body) = testkit::json(request.send().await.expect("get")).await;
    let body = body.to_string().replace(&service.base, "");
    (status.as_u16(), serde_json::from_str(&body).expect("json"))
}

/// The names in memory (`catalogue::names`) and plain queries answer every
/// search, sort, set of ids and page alike: the same products in the same
/// order, the same total, hidden ones for admins only. Plain queries answer
/// on a replica told to keep no names, and on one whose limit the catalogue
/// exceeds.
#[testkit::both_backends]
async fn the_names_in_memory_and_the_database_answer_alike(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let off = || ("CATALOGUE_CACHE_MS", "0".to_owned());
    let database = shop
        .sibling(&[("CATALOGUE_INDEX_MAX", "0".into()), off()])
        .await;
    let too_small = shop
        .sibling(&[("CATALOGUE_INDEX_MAX", "5".into()), off()])
        .await;
    let memory = shop.sibling(&[off()]).await;
    let admin = shop.admin().await;
    for name in [
        "100% Cotton Apron",
        "Tea_Towel Deluxe",
        "Back\\slash Bowl",
        "Crème Brûlée Dish",
        "ÉCLAIR TRAY",
        "Straße Mug",
        "Ωmega Mugs, Set of 6",
        "Quote \"Mug\" Stand",
        "Mug Mug Mug",
    ] {
        shop.add(&admin, &json!({"name": name, "price": 1000}))
            .await;
    }
    let hidden = shop.add(&admin, &product("Hidden Walnut Mug", 700)).await;
    shop.change(&admin, hidden.id, &json!({"hidden": true}))
        .await;
    let renamed = shop.add(&admin, &product("Old Name Jug", 800)).await;
    shop.change(&admin, renamed.id, &json!({"name": "New Name Jug"}))
        .await;

    let terms = [
        "mug", "MUG", "m", "mu", "ug ", "set of", "%", "_", "\\", "\"mug\"", "'", "é", "brûlée",
        "ÉCLAIR", "ße", "ω", "walnut", "old name", "new name", "zeppelin", "mug mug",
    ];
    let mut compared = 0;
    for term in terms {
        let encoded: String = term.bytes().map(|b| format!("%{b:02X}")).collect();
        for page in ["", "&limit=2", "&limit=1&offset=2", "&limit=3&offset=500"] {
            for hidden_too in [false, true] {
                let path = format!(
                    "/api/products?q={encoded}{page}{}",
                    if hidden_too {
                        "&include_hidden=true"
                    } else {
                        ""
                    }
                );
                let who = hidden_too.then_some(admin.as_str());
                let expected = read(&database, &path, who).await;
                assert_eq!(expected.0, 200, "{path}: {}", expected.1);
                assert_eq!(read(&memory, &path, who).await, expected, "{path}");
                assert_eq!(read(&too_small, &path, who).await, expected, "{path}");
                compared += 1;
            }
        }
    }
    // Sorted, and by ids, searched or not, hidden products too or not.
    for sort in ["id", "-id", "price", "-price", "name", "-name"] {
        for filter in [
            "",
            "&q=mug",
            "&q=%C3%A9",
            "&ids=1,3,14,15,17,20,21,22,23,99",
            "&ids=0",
        ] {
            for page in ["", "&limit=3&offset=2"] {
                for hidden_too in [false, true] {
                    let path = format!(
                        "/api/products?sort={sort}{filter}{page}{}",
                        if hidden_too {
                            "&include_hidden=true"
                        } else {
                            ""
                        }
                    );
                    let who = hidden_too.then_some(admin.as_str());
                    let expected = read(&database, &path, who).await;
                    assert_eq!(expected.0, 200, "{path}: {}", expected.1);
                    assert_eq!(read(&memory, &path, who).await, expected, "{path}");
                    assert_eq!(read(&too_small, &path, who).await, expected, "{path}");
                    compared += 1;
                }
            }
        }
    }
    // And the whole catalogue, page by page.
    for page in [
        "",
        "?limit=4&offset=3",
        "?limit=5&offset=20",
        "?include_hidden=true&limit=7&offset=10",
    ] {
        let path = format!("/api/products{page}");
        let expected = read(&database, &path, Some(&admin)).await;
        assert_eq!(read(&memory, &path, Some(&admin)).await, expected, "{path}");
    }
    // Not a comparison of empty answers: the terms do find products.
    let (_, mugs) = read(
        &memory,
        "/api/products?q=mug&include_hidden=true",
        Some(&admin),
    )
    .await;
    let mugs: ListBody<Product> = testkit::decode(&mugs);
    assert_eq!(mugs.total, 6, "{mugs:?}");
    assert!(compared > 280);
}

/// The replica that makes a change searches the changed names at once.
#[testkit::both_backends]
async fn a_new_renamed_or_hidden_product_is_searched_as_it_is_now(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    assert_eq!(shop.list(&q("pitcher")).await.total, 0);
    let added = shop.add(&admin, &product("Copper Pitcher", 3000)).await;
    assert_eq!(names(&shop.list(&q("pitcher")).await), ["Copper Pitcher"]);
    shop.change(&admin, added.id, &json!({"name": "Copper Jug"}))
        .await;
    assert_eq!(shop.list(&q("pitcher")).await.total, 0);
    assert_eq!(names(&shop.list(&q("copper j")).await), ["Copper Jug"]);
    let everything = shop.list("/api/products").await.total;
    shop.change(&admin, added.id, &json!({"hidden": true}))
        .await;
    assert_eq!(shop.list(&q("copper")).await.total, 0);
    assert_eq!(shop.list("/api/products").await.total, everything - 1);
    shop.change(&admin, added.id, &json!({"hidden": false}))
        .await;
    assert_eq!(names(&shop.list(&q("COPPER")).await), ["Copper Jug"]);
}

/// A change shows at once on the replica that made it even to the requests
/// that arrive while another one is reloading the names: they wait for that
/// reload instead of answering from the names it is replacing. (In the
/// browser suite an admin's list, asked while the catalogue page reloaded
/// the names, once left out the product just added.)
#[testkit::both_backends]
async fn reads_during_the_reload_after_a_change_wait_for_it(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    for round in 0..25 {
        let name = format!("Racing Kettle {round}");
        shop.add(&admin, &product(&name, 1000)).await;
        // Eight searches at once, each a page of its own (none served from
        // the page cache): the first to ask reloads, the others queue.
        let searches = (1..=8).map(|limit| {
            let path = format!("{}&limit={limit}", q(&name));
            let shop = &shop;
            async move { shop.list(&path).await }
        });
        for (i, found) in futures_util::future::join_all(searches)
            .await
            .iter()
            .enumerate()
        {
            assert_eq!(names(found), [name.as_str()], "round {round}, search {i}");
        }
    }
}
