//! The products service: the catalogue.

use gloo_net::http::Method;
use shared::{
    CreateProductRequest, ListBody, Product, ProductCreated, ResultBody, UpdateProductRequest,
};

use super::{Api, ApiError, Call, Service};

/// The most ids one `GET /api/products?ids=` may name (contract v1.3).
pub const MAX_IDS: usize = 100;

impl Api {
    /// `GET /api/products?q=&limit=&offset=&sort=`, images made absolute. `sort`
    /// is the contract's (v1.3: `price`, `-price`, `name`, `-id`, ...); `None`
    /// lists by id. The query's order (`limit`, `offset`, then `q` and `sort`)
    /// is the URL the SPA image preloads for the landing page: keep it.
    pub async fn products(
        &self,
        q: &str,
        sort: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<ListBody<Product>, ApiError> {
        let mut call = Call::new(Service::Products, Method::GET, "/api/products")
            .query("limit", limit)
            .query("offset", offset);
        if !q.trim().is_empty() {
            call = call.query("q", q.trim());
        }
        if let Some(sort) = sort {
            call = call.query("sort", sort);
        }
        let mut list = self.send::<ListBody<Product>>(call).await?;
        for p in &mut list.results {
            self.fix_image(p);
        }
        Ok(list)
    }

    /// Exactly these products (`GET /api/products?ids=`, v1.3), at most
    /// [`MAX_IDS`] per call: what cart and order lines show (thumbnails, prices
    /// now, stock). Hidden and unknown ids are simply not in the answer.
    pub async fn products_by_ids(&self, ids: &[i64]) -> Result<Vec<Product>, ApiError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_IDS) {
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let call = Call::new(Service::Products, Method::GET, "/api/products")
                .query("ids", list.join(","))
                .query("limit", chunk.len());
            let mut page = self.send::<ListBody<Product>>(call).await?;
            for p in &mut page.results {
                self.fix_image(p);
            }
            found.append(&mut page.results);
        }
        Ok(found)
    }

    /// `GET /api/product/{id_or_slug}`.
    pub async fn product(&self, id_or_slug: &str) -> Result<Product, ApiError> {
        let path = format!(
            "/api/product/{}",
            String::from(js_sys::encode_uri_component(id_or_slug))
        );
        let call = Call::new(Service::Products, Method::GET, &path);
        let mut product = self.send::<ResultBody<Product>>(call).await?.result;
        self.fix_image(&mut product);
        Ok(product)
    }

    /// `POST /api/product/create` (admins).
    pub async fn create_product(
        &self,
        req: &CreateProductRequest,
        key: &str,
    ) -> Result<Product, ApiError> {
        let call = Call::new(Service::Products, Method::POST, "/api/product/create")
            .authed()
            .idempotent(key)
            .json(req);
        let mut product = self.send::<ProductCreated>(call).await?.product;
        self.fix_image(&mut product);
        Ok(product)
    }

    /// `GET /api/products?include_hidden=true&sort=-id` with the admin's
    /// token: one page of the whole catalogue, hidden products included,
    /// newest first (a product just added is at the top of the first page).
    pub async fn admin_products(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<ListBody<Product>, ApiError> {
        let call = Call::new(Service::Products, Method::GET, "/api/products")
            .authed()
            .query("include_hidden", true)
            .query("sort", "-id")
            .query("limit", limit)
            .query("offset", offset);
        let mut list = self.send::<ListBody<Product>>(call).await?;
        for p in &mut list.results {
            self.fix_image(p);
        }
        Ok(list)
    }

    /// `PATCH /api/product/{id}` (admins, v1.2): only the fields set in `req`
    /// change. Setting the same values again changes nothing, so a retry is safe
    /// without an `Idempotency-Key`.
    pub async fn update_product(
        &self,
        id: i64,
        req: &UpdateProductRequest,
    ) -> Result<Product, ApiError> {
        let path = format!("/api/product/{id}");
        let call = Call::new(Service::Products, Method::PATCH, &path)
            .authed()
            .json(req);
        let mut product = self.send::<ResultBody<Product>>(call).await?.result;
        self.fix_image(&mut product);
        Ok(product)
    }

    fn fix_image(&self, p: &mut Product) {
        p.image = self.absolute(Service::Products, &p.image);
    }
}
