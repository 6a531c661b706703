//! The emails of the lifecycle, written when the change they report is
//! (contract v1.3: one per transition the table marks, and one to the
//! merchant when an order is placed or paid). Each has a `Message-ID` fixed
//! by the order and the status it reports, so a resend after a crash is
//! recognisably the same message.

use shared::money::money;
use shared::OrderStatus;

use crate::config::MailConfig;
use crate::db::models::OrderWithItems;
pub use crate::mailer::Email;

/// Who a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    Shopper,
    Merchant,
}

impl Recipient {
    fn as_str(self) -> &'static str {
        match self {
            Self::Shopper => "shopper",
            Self::Merchant => "merchant",
        }
    }
}

/// The `Message-ID` of the message telling `recipient` that `order` became
/// `status`. The order's creation time is in it, so a reset database that
/// hands out the same order id again never makes the same id.
pub fn message_id(
    mail: &MailConfig,
    order: &OrderWithItems,
    status: OrderStatus,
    recipient: Recipient,
) -> String {
    let domain = mail
        .from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').trim())
        .filter(|d| !d.is_empty())
        .unwrap_or("cartwheel.localhost");
    format!(
        "<order-{}-{}.{}.{}@{domain}>",
        order.order.id,
        order.order.created_at.and_utc().timestamp_millis(),
        status.as_str(),
        recipient.as_str()
    )
}

/// The message telling `recipient` (at `to`) that `order` (as it is after the
/// change) became `status`.
pub fn compose(
    mail: &MailConfig,
    order: &OrderWithItems,
    status: OrderStatus,
    recipient: Recipient,
    to: &str,
) -> Email {
    let id = order.order.id;
    let shop = &mail.shop_name;
    let link = format!("{}/orders/{id}", mail.public_shop_url);
    let headline = match (recipient, status) {
        (Recipient::Merchant, _) => format!(
            "Order #{id} is {} ({}, {}).",
            status.label().to_lowercase(),
            order.order.email.as_deref().unwrap_or("no email"),
            money(order.order.total)
        ),
        (_, OrderStatus::Placed) => format!("Thank you: your order #{id} is placed."),
        (_, OrderStatus::Paid) => format!("Thank you: your payment for order #{id} went through."),
        (_, OrderStatus::Shipped) => format!("Your order #{id} is on its way."),
        (_, OrderStatus::Delivered) => format!("Your order #{id} was delivered."),
        (_, OrderStatus::Cancelled) => match order.order.cancel_reason.as_deref() {
            Some("payment_timeout") => format!(
                "Your order #{id} was cancelled: it was not paid in time. Nothing was charged."
            ),
            _ => format!("Your order #{id} is cancelled."),
        },
        (_, other) => format!("Your order #{id} is now {}.", other.label().to_lowercase()),
    };
    let subject = match status {
        OrderStatus::Shipped => format!("{shop}: order #{id} shipped"),
        other => format!("{shop}: order #{id} {}", other.label().to_lowercase()),
    };
    let tracking = (status == OrderStatus::Shipped)
        .then(|| order.order.tracking_number.clone())
        .flatten();
    let lines: Vec<(String, String)> = order
        .items
        .iter()
        .map(|item| {
            (
                format!(
                    "{} x {} ({} each)",
                    item.quantity,
                    item.name,
                    money(item.unit_price)
                ),
                money(item.unit_price.saturating_mul(item.quantity)),
            )
        })
        .collect();
    let total = money(order.order.total);

    let mut text = format!("{headline}\n\n");
    if let Some(tracking) = &tracking {
        text += &format!("Tracking number: {tracking}\n\n");
    }
    for (line, amount) in &lines {
        text += &format!("  {line}  {amount}\n");
    }
    text += &format!("\nTotal: {total}\n\nYour order: {link}\n\n{shop}\n");

    let mut html = format!(
        "<!doctype html><html><body><h1>{}</h1><p>{}</p>",
        escape(shop),
        escape(&headline)
    );
    if let Some(tracking) = &tracking {
        html += &format!(
            "<p>Tracking number: <strong>{}</strong></p>",
            escape(tracking)
        );
    }
    html += "<table>";
    for (line, amount) in &lines {
        html += &format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(line),
            escape(amount)
        );
    }
    html += &format!(
        "<tr><th>Total</th><th>{}</th></tr></table><p><a href=\"{}\">Your order</a></p></body></html>",
        escape(&total),
        escape(&link)
    );
    Email {
        message_id: message_id(mail, order, status, recipient),
        to: to.to_owned(),
        subject,
        text,
        html,
    }
}

/// Text made safe inside HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MailTransport;
    use crate::db::models::{ItemRow, OrderRow};

    fn mail() -> MailConfig {
        MailConfig {
            transport: MailTransport::Dir("data/mail".into()),
            from: "Shop <orders@shop.example>".into(),
            merchant: None,
            shop_name: "Cartwheel".into(),
            public_shop_url: "https://shop.example".into(),
        }
    }

    fn order() -> OrderWithItems {
        let created = chrono::DateTime::from_timestamp(1_700_000_000, 0)
            .unwrap()
            .naive_utc();
        OrderWithItems::new(
            OrderRow {
                id: 12,
                user_id: 3,
                is_open: false,
                total: 1150,
                created_at: created,
                checked_out_at: Some(created),
                checkout_state: None,
                checkout_reservation: None,
                status: "shipped".into(),
                email: Some("ada@example.com".into()),
                tracking_number: Some("1Z<99>".into()),
                cancel_reason: None,
                shipping_address: None,
            },
            vec![ItemRow {
                order_id: 12,
                product_id: 4,
                name: "Tea & <biscuits>".into(),
                unit_price: 575,
                quantity: 2,
            }],
        )
    }

    #[test]
    fn a_message_names_the_order_its_lines_total_and_link() {
        let email = compose(
            &mail(),
            &order(),
            OrderStatus::Shipped,
            Recipient::Shopper,
            "ada@example.com",
        );
        assert_eq!(
            email.message_id,
            "<order-12-1700000000000.shipped.shopper@shop.example>"
        );
        assert_eq!(email.subject, "Cartwheel: order #12 shipped");
        for part in [&email.text, &email.html] {
            assert!(part.contains("$11.50"), "{part}");
            assert!(part.contains("https://shop.example/orders/12"), "{part}");
        }
        assert!(email.text.contains("Tracking number: 1Z<99>"));
        assert!(
            email.html.contains("1Z&lt;99&gt;")
                && email.html.contains("Tea &amp; &lt;biscuits&gt;")
        );
    }

    #[test]
    fn each_recipient_and_status_has_its_own_message_id() {
        let order = order();
        let ids: std::collections::HashSet<String> = OrderStatus::ALL
            .into_iter()
            .flat_map(|s| {
                [Recipient::Shopper, Recipient::Merchant].map(|r| message_id(&mail(), &order, s, r))
            })
            .collect();
        assert_eq!(ids.len(), OrderStatus::ALL.len() * 2);
    }
}
