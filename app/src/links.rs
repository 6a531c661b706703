//! URLs the SPA builds for its own routes, used by pages and by the pieces
//! pages are made of (the header, "Add to cart"): kept out of any page so no
//! component imports from one.

/// A route's URL from the router's path and query (`search`, with or without
/// its `?`): what the address bar shows, less the fragment.
pub fn path_and_query(path: &str, search: &str) -> String {
    let search = search.trim_start_matches('?');
    if search.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{search}")
    }
}

/// The login page, coming back to `next` (a path of this site) afterwards.
pub fn login_href(next: &str) -> String {
    if next.is_empty() || next == "/" || next.starts_with("/login") {
        "/login".to_string()
    } else {
        format!(
            "/login?next={}",
            String::from(js_sys::encode_uri_component(next))
        )
    }
}

/// Where to go after logging in: `?next=` when it is a path on this site (never
/// another origin: `//evil.example` or `https://...` fall back to the catalogue).
pub fn safe_next(next: Option<String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n,
        _ => "/".to_string(),
    }
}

/// A shopper's (or an admin's) page of one order.
pub fn order_href(id: i64) -> String {
    format!("/orders/{id}")
}

/// The order desk's page of one order, for admins.
pub fn desk_order_href(id: i64) -> String {
    format!("/admin/orders/{id}")
}

#[cfg(test)]
mod tests {
    use super::{path_and_query, safe_next};

    #[test]
    fn a_route_url_joins_path_and_query_once() {
        assert_eq!(path_and_query("/cart", ""), "/cart");
        assert_eq!(path_and_query("/", "?q=mug"), "/?q=mug");
        assert_eq!(path_and_query("/", "q=mug&sort=name"), "/?q=mug&sort=name");
        assert_eq!(path_and_query("/orders", "?"), "/orders");
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/product/mug".into())), "/product/mug");
        assert_eq!(safe_next(Some("//evil.example".into())), "/");
        assert_eq!(safe_next(Some("https://evil.example".into())), "/");
        assert_eq!(safe_next(None), "/");
    }
}
