//! A catalogue of a thousand products pages consistently, and quickly.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use shared::{ListBody, Product};

use crate::support::{ids, product, Shop};

const PRODUCTS: usize = 1000;

#[testkit::both_backends]
async fn a_thousand_products_page_consistently_and_quickly(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    let started = Instant::now();
    // Through the admin API, 16 at a time: the real write path. A 503 (the
    // users service too slow to confirm the admin on a loaded machine) is
    // the contract's "try again shortly", so it is retried, a few times.
    let statuses: Vec<u16> = stream::iter(0..PRODUCTS)
        .map(|i| {
            let shop = &shop;
            let token = &token;
            async move {
                let body = product(&format!("Paging Item {i:04}"), i as i64);
                let mut tries = 0;
                loop {
                    let (status, answer) = shop.create(token, &body).await;
                    tries += 1;
                    if status != 503 || tries == 5 {
                        if status != 201 {
                            eprintln!("{status}: {answer}");
                        }
                        return status.as_u16();
                    }
                    eprintln!("retrying after 503: {answer}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(
        statuses.iter().all(|s| *s == 201),
        "{:?}",
        statuses.iter().filter(|s| **s != 201).collect::<Vec<_>>()
    );
    eprintln!(
        "{backend:?}: {PRODUCTS} products created in {:?}",
        started.elapsed()
    );

    let total = shop.list("/api/products?limit=1").await.total;
    assert!(total >= PRODUCTS as i64 + 12);

    for (limit, query) in [(100, ""), (37, ""), (1000, ""), (250, "&q=paging%20ITEM")] {
        let expected_total = if query.is_empty() {
            total
        } else {
            PRODUCTS as i64
        };
        let started = Instant::now();
        let mut seen = Vec::new();
        let mut slowest = Duration::ZERO;
        loop {
            let page_started = Instant::now();
            let (status, page) = shop
                .get(&format!(
                    "/api/products?limit={limit}&offset={}{query}",
                    seen.len()
                ))
                .await;
            slowest = slowest.max(page_started.elapsed());
            assert_eq!(status, 200, "{page}");
            let page: ListBody<Product> = testkit::decode(&page);
            assert_eq!(page.total, expected_total, "every page agrees on the total");
            let page_ids = ids(&page);
            if page_ids.is_empty() {
                break;
            }
            assert!(page_ids.len() <= limit);
            seen.extend(page_ids);
        }
        let elapsed = started.elapsed();
        eprintln!(
            "{backend:?}: limit {limit}{query}: {} pages in {elapsed:?}, slowest {slowest:?}",
            seen.len().div_ceil(limit)
        );
        assert_eq!(seen.len() as i64, expected_total, "limit {limit}{query}");
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "by id, each exactly once"
        );
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
        // Generous for a debug build on a shared 2-core machine; typically milliseconds.
        assert!(slowest < Duration::from_secs(2), "a page took {slowest:?}");
    }
}
