//! The envelopes every service wraps its answers in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `{"result": T}`: the answer for one thing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResultBody<T> {
    pub result: T,
}

/// `{"message": "...", "result": T}`: the answer for a thing just created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Created<T> {
    pub message: String,
    pub result: T,
}

/// `{"results": [...], "total": N}`: a page of a list; `total` counts every match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListBody<T> {
    pub results: Vec<T>,
    pub total: i64,
}

/// `{"message": "..."}`: an answer that only says something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageBody {
    pub message: String,
}

/// The body of every 4xx and 5xx answer.
///
/// `message` is for people, `error` is a stable machine code, `fields` names the
/// problem with each invalid field of a 422.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub message: String,
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
}

/// The answer of `GET /api/user/{username}/exists`, found or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExistsBody {
    pub result: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Declares the query of a list route: its own fields, and `limit` and
/// `offset` where `..page` stands, so every list route pages with the same
/// names, docs, lenient parsing (`"10"` and `10`) and OpenAPI bounds.
///
/// A macro rather than a `#[serde(flatten)]` [`ListQuery`]: serde hands a
/// flattened struct its fields without their names, so `?limit=3x` would be a
/// 422 naming `body` instead of `limit`; and utoipa's `IntoParams` cannot
/// flatten a field into parameters.
macro_rules! list_query {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$before_meta:meta])* pub $before:ident: $before_ty:ty, )*
            ..page,
            $( $(#[$after_meta:meta])* pub $after:ident: $after_ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
        #[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
        pub struct $name {
            $( $(#[$before_meta])* pub $before: $before_ty, )*
            /// Page size, at least 1 (default 100); above 1000 is read as 1000.
            #[cfg_attr(feature = "openapi", param(minimum = 1))]
            #[serde(
                default,
                deserialize_with = "crate::lenient::opt_i64",
                skip_serializing_if = "Option::is_none"
            )]
            pub limit: Option<i64>,
            /// How many matches to skip (default 0).
            #[cfg_attr(feature = "openapi", param(minimum = 0))]
            #[serde(
                default,
                deserialize_with = "crate::lenient::opt_i64",
                skip_serializing_if = "Option::is_none"
            )]
            pub offset: Option<i64>,
            $( $(#[$after_meta])* pub $after: $after_ty, )*
        }
    };
}

list_query! {
    /// `?limit=&offset=` of every list route, and all of `GET /api/users`'s query.
    pub struct ListQuery {
        ..page,
    }
}

impl ListQuery {
    pub const DEFAULT_LIMIT: i64 = 100;
    pub const MAX_LIMIT: i64 = 1000;
}

#[cfg(test)]
mod tests {
    use crate::{ListQuery, OrdersQuery, ProductsQuery};

    #[test]
    fn list_queries_page_with_the_same_lenient_fields() {
        let users: ListQuery = serde_json::from_str(r#"{"limit": "10", "offset": 2}"#).unwrap();
        assert_eq!((users.limit, users.offset), (Some(10), Some(2)));
        let orders: OrdersQuery =
            serde_json::from_str(r#"{"limit": 5, "offset": "0", "user_id": "3"}"#).unwrap();
        assert_eq!(
            (orders.limit, orders.offset, orders.user_id),
            (Some(5), Some(0), Some(3))
        );
        let products: ProductsQuery =
            serde_json::from_str(r#"{"q": "tea", "offset": "7", "include_hidden": "true"}"#)
                .unwrap();
        assert_eq!((products.limit, products.offset), (None, Some(7)));
        assert!(serde_json::from_str::<OrdersQuery>(r#"{"offset": "3x"}"#).is_err());
        assert!(serde_json::from_str::<ProductsQuery>(r#"{"limit": ""}"#).is_err());
    }

    #[test]
    fn list_queries_serialize_only_what_is_set_in_declaration_order() {
        let products = ProductsQuery {
            q: Some("tea".into()),
            limit: Some(20),
            offset: None,
            include_hidden: Some(true),
            sort: None,
            ids: None,
        };
        assert_eq!(
            serde_json::to_string(&products).unwrap(),
            r#"{"q":"tea","limit":20,"include_hidden":true}"#
        );
        assert_eq!(serde_json::to_string(&ListQuery::default()).unwrap(), "{}");
    }
}
