//! Carts and orders.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An order; the open one is the user's cart. Money in cents, times RFC 3339 UTC.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    pub id: i64,
    pub user_id: i64,
    /// True only while `status` is `open` (the cart).
    pub is_open: bool,
    pub items: Vec<Item>,
    pub total: i64,
    pub created_at: DateTime<Utc>,
    pub checked_out_at: Option<DateTime<Utc>>,
    /// Where the order is in its lifecycle (contract v1.3).
    #[serde(default)]
    pub status: OrderStatus,
    /// `null` when payments are off.
    #[serde(default)]
    pub payment: Option<Payment>,
    /// Set when shipped.
    #[serde(default)]
    pub tracking_number: Option<String>,
    #[serde(default)]
    pub cancel_reason: Option<CancelReason>,
    #[serde(default)]
    pub shipping_address: Option<ShippingAddress>,
    /// The shopper's email, kept at checkout: shown to the order's owner and
    /// to admins only; `null` for a cart, or an order checked out before v1.3.
    #[serde(default)]
    pub email: Option<String>,
    /// The timeline, oldest first.
    #[serde(default)]
    pub events: Vec<OrderEvent>,
}

/// Where an order is in its lifecycle (contract v1.3, "Orders after checkout").
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// The cart.
    #[default]
    Open,
    /// Checked out with payments on; the stock is held until paid or expired.
    AwaitingPayment,
    /// Checked out with payments off.
    Placed,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        Self::Open,
        Self::AwaitingPayment,
        Self::Placed,
        Self::Paid,
        Self::Shipped,
        Self::Delivered,
        Self::Cancelled,
    ];

    /// The name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::AwaitingPayment => "awaiting_payment",
            Self::Placed => "placed",
            Self::Paid => "paid",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
        }
    }

    /// Words for people ("Awaiting payment").
    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "Cart",
            Self::AwaitingPayment => "Awaiting payment",
            Self::Placed => "Placed",
            Self::Paid => "Paid",
            Self::Shipped => "Shipped",
            Self::Delivered => "Delivered",
            Self::Cancelled => "Cancelled",
        }
    }

    /// Whether the owner or an admin may cancel an order in this status.
    pub fn cancellable(self) -> bool {
        matches!(self, Self::AwaitingPayment | Self::Placed | Self::Paid)
    }

    /// Whether an admin may ship an order in this status.
    pub fn shippable(self) -> bool {
        matches!(self, Self::Placed | Self::Paid)
    }

    /// Whether an admin may mark an order in this status delivered.
    pub fn deliverable(self) -> bool {
        self == Self::Shipped
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OrderStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown status {s:?}: one of {}", known.join(", "))
            })
    }
}

/// Who made a change of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Shopper,
    Admin,
    System,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shopper => "shopper",
            Self::Admin => "admin",
            Self::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Shopper, Self::Admin, Self::System]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// Why an order was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    Shopper,
    Admin,
    PaymentTimeout,
}

impl CancelReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shopper => "shopper",
            Self::Admin => "admin",
            Self::PaymentTimeout => "payment_timeout",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Shopper, Self::Admin, Self::PaymentTimeout]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// One step of an order's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderEvent {
    pub status: OrderStatus,
    pub at: DateTime<Utc>,
    pub by: Actor,
}

/// The payment of an order (payments on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payment {
    /// The current PaymentIntent's status, or `refunded` once its money went back.
    pub status: String,
    pub amount: i64,
    /// A sentence for people from the last failed attempt.
    pub error: Option<String>,
    /// Of the current attempt: only to the order's owner, only while awaiting payment.
    pub client_secret: Option<String>,
    /// While awaiting payment: when the order is cancelled unless paid
    /// (checkout + `ORDER_PAYMENT_TTL_SECS`; a payment under way at that
    /// moment holds it until the provider has answered). Else absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Where an order goes. Each field 1-100 printable characters (surrounding
/// white space ignored); `line2` optional; `country` an ISO 3166 alpha-2 code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShippingAddress {
    // The patterns of these fields are `crate::pattern::FIELDS`'.
    pub name: String,
    pub line1: String,
    /// Optional; blank means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, such as `US` or `DE`.
    pub country: String,
}

/// The most characters of an address field.
pub const ADDRESS_FIELD_MAX: usize = 100;
/// The most characters of a tracking number.
pub const TRACKING_NUMBER_MAX: usize = 64;

/// Why `value` is not 1-`max` printable characters (after trimming), if it is not.
pub fn printable_problem(value: &str, max: usize) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        Some("is required".into())
    } else if value.chars().count() > max {
        Some(format!("must be at most {max} characters"))
    } else if value.chars().any(char::is_control) {
        Some("must not contain control characters".into())
    } else {
        None
    }
}

impl ShippingAddress {
    /// The address with each field trimmed and the country upper-cased, or
    /// each field's problem, named as the contract's `fields` name them
    /// (`shipping_address.city`).
    pub fn validated(&self) -> Result<Self, std::collections::BTreeMap<String, String>> {
        let mut problems = std::collections::BTreeMap::new();
        let mut check = |name: &str, value: &str| {
            if let Some(problem) = printable_problem(value, ADDRESS_FIELD_MAX) {
                problems.insert(format!("shipping_address.{name}"), problem);
            }
        };
        check("name", &self.name);
        check("line1", &self.line1);
        check("city", &self.city);
        check("postal_code", &self.postal_code);
        let line2 = self
            .line2
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty());
        if let Some(line2) = line2 {
            check("line2", line2);
        }
        let country = self.country.trim();
        if !(country.len() == 2 && country.chars().all(|c| c.is_ascii_alphabetic())) {
            problems.insert(
                "shipping_address.country".into(),
                "must be a two-letter country code (ISO 3166), such as US".into(),
            );
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self {
            name: self.name.trim().into(),
            line1: self.line1.trim().into(),
            line2: line2.map(str::to_owned),
            city: self.city.trim().into(),
            postal_code: self.postal_code.trim().into(),
            country: country.to_ascii_uppercase(),
        })
    }
}

/// `POST /api/order/checkout`'s optional JSON body (v1.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutRequest {
    /// Kept on the order; absent: no address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<ShippingAddress>,
}

/// `POST /api/order/{id}/pay` (payments on, v1.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayRequest {
    /// The id of a PaymentMethod (`pm_...`) or of a card token (`tok_...`)
    /// made in the browser by Stripe.js; never a card number.
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true, pattern = "^(pm|tok)_[A-Za-z0-9_]{1,200}$"))]
    #[serde(default)]
    pub payment_method: Option<String>,
}

/// `POST /api/order/{id}/ship`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShipRequest {
    /// 1-64 printable characters.
    #[cfg_attr(feature = "openapi", schema(value_type = String, required = true))]
    #[serde(default)]
    pub tracking_number: Option<String>,
}

impl Order {
    /// How many pieces the order holds, all lines together (the cart badge).
    pub fn item_count(&self) -> i64 {
        self.items.iter().map(|i| i.quantity).sum()
    }
}

/// One line of an order: a product, its price when added, how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    /// The product's id.
    pub product: i64,
    pub name: String,
    pub unit_price: i64,
    pub quantity: i64,
    pub line_total: i64,
}

/// `POST /api/order/add-item`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddItemRequest {
    /// A product's id.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, required = true, minimum = 1))]
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub product_id: Option<i64>,
    /// 1-99, default 1. The line may hold at most 999: an add past that is a 422.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 99))]
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub qty: Option<i64>,
}

/// `POST /api/order/update-item`: sets the quantity; 0 removes the line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateItemRequest {
    /// The id of a product in the cart.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, required = true, minimum = 1))]
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub product_id: Option<i64>,
    /// The line's new quantity, 0-999; 0 removes the line.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, required = true, minimum = 0, maximum = 999))]
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub qty: Option<i64>,
}

list_query! {
    /// `GET /api/orders?status=&limit=&offset=&user_id=`; `user_id` filters for admins.
    pub struct OrdersQuery {
        /// Only orders in these statuses, comma-separated (`placed,paid`);
        /// empty: any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub status: Option<String>,
        ..page,
        /// Admins: only this user's orders. Ignored for anyone else.
        #[serde(
            default,
            deserialize_with = "crate::lenient::opt_i64",
            skip_serializing_if = "Option::is_none"
        )]
        pub user_id: Option<i64>,
    }
}

impl OrdersQuery {
    /// The statuses asked for (`None`: any), or why one is unknown.
    pub fn statuses(&self) -> Result<Option<Vec<OrderStatus>>, String> {
        let Some(raw) = self.status.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Ok(None); // nothing asked: any status
        };
        let mut statuses = Vec::new();
        for name in raw.split(',').map(str::trim) {
            if name.is_empty() {
                return Err("names statuses separated by single commas".into());
            }
            let status: OrderStatus = name.parse()?;
            if !statuses.contains(&status) {
                statuses.push(status);
            }
        }
        Ok(Some(statuses))
    }
}

#[cfg(test)]
mod lifecycle_tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert!("shipping".parse::<OrderStatus>().is_err());
    }

    #[test]
    fn the_status_filter_reads_a_comma_separated_list() {
        let query = |s: &str| OrdersQuery {
            status: Some(s.into()),
            ..Default::default()
        };
        assert_eq!(
            query("placed, paid,placed").statuses(),
            Ok(Some(vec![OrderStatus::Placed, OrderStatus::Paid]))
        );
        assert!(query("placed,lost").statuses().is_err());
        assert!(query(" , ").statuses().is_err());
        assert!(query("placed,,paid").statuses().is_err());
        assert_eq!(OrdersQuery::default().statuses(), Ok(None));
        assert_eq!(query("  ").statuses(), Ok(None));
    }

    #[test]
    fn addresses_are_trimmed_and_checked_field_by_field() {
        let address = ShippingAddress {
            name: " Ada ".into(),
            line1: "1 Main St".into(),
            line2: Some("  ".into()),
            city: "Springfield".into(),
            postal_code: "12345".into(),
            country: "us".into(),
        };
        let ok = address.validated().unwrap();
        assert_eq!((ok.name.as_str(), ok.country.as_str()), ("Ada", "US"));
        assert_eq!(ok.line2, None);
        let bad = ShippingAddress {
            city: "\u{7}".into(),
            country: "USA".into(),
            ..address
        };
        let problems = bad.validated().unwrap_err();
        assert!(problems.contains_key("shipping_address.city"));
        assert!(problems.contains_key("shipping_address.country"));
    }
}
