//! The rules of a cart change, applied to a cart held in memory.
//!
//! The [cart writer](crate::writer) applies a batch of changes in one
//! transaction: it reads the batch's carts and lines once, applies each change
//! here in order (each gets the outcome it would have had alone, after the
//! ones before it), and writes back what differs. The table constraints (one
//! open cart per user, the line's key, its quantity CHECK) still hold whatever
//! this code does: a change they refuse fails the batch rather than being
//! half written.

use std::collections::BTreeMap;

use shared::Product;

use crate::db::models::{ItemRow, OrderRow, OrderWithItems};
use crate::domain::{AddQuantity, ProductId, SetQuantity, MAX_LINE_QUANTITY};

/// One change of one user's cart.
#[derive(Debug, Clone)]
pub enum CartOp {
    /// Adds `qty` of `product` (as the products service just described it),
    /// opening the cart if there is none; a line already there gets the
    /// product's current name and price.
    Add {
        user_id: i64,
        product: Product,
        qty: AddQuantity,
    },
    /// Sets the quantity of a line; 0 removes it.
    Set {
        user_id: i64,
        product: ProductId,
        qty: SetQuantity,
    },
}

impl CartOp {
    pub fn user_id(&self) -> i64 {
        match self {
            Self::Add { user_id, .. } | Self::Set { user_id, .. } => *user_id,
        }
    }

    /// Whether this change opens a cart when the user has none.
    pub fn opens_cart(&self) -> bool {
        matches!(self, Self::Add { .. })
    }
}

/// What a cart change came to. Anything but `Changed` left the cart as it was.
// `Changed` is the common outcome and is answered at once: boxing it would
// allocate for every change to save stack on the rare refusals.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum CartChange {
    /// The cart after the change.
    Changed(OrderWithItems),
    /// The user has no cart.
    NoCart,
    /// The cart has no line for that product.
    NotInCart,
    /// The line would hold more than [`MAX_LINE_QUANTITY`].
    LineFull,
    /// The cart holds `shared::stock::MAX_LINES` different products already.
    CartFull,
    /// The cart's stock is being reserved by a checkout: its lines must stay
    /// what was reserved.
    CheckingOut,
}

/// A cart as read at the start of a batch, and as the batch's changes leave it.
#[derive(Debug)]
pub struct Cart {
    order: OrderRow,
    /// False for a cart this batch opened, until its first add: the changes
    /// before that add found no cart.
    exists: bool,
    read: BTreeMap<i64, ItemRow>,
    lines: BTreeMap<i64, ItemRow>,
}

impl Cart {
    /// The cart `order` with its lines `items`; `existed` is false when the
    /// batch opened it for a change that adds.
    pub fn new(order: OrderRow, items: Vec<ItemRow>, existed: bool) -> Self {
        let read: BTreeMap<i64, ItemRow> = items.into_iter().map(|i| (i.product_id, i)).collect();
        Self {
            order,
            exists: existed,
            lines: read.clone(),
            read,
        }
    }

    /// Applies `op` (of this cart's user); the cart is unchanged unless the
    /// outcome is `Changed`.
    pub fn apply(&mut self, op: &CartOp) -> CartChange {
        if !self.exists && !op.opens_cart() {
            return CartChange::NoCart;
        }
        self.exists = true;
        if self.order.checkout_state.is_some() {
            return CartChange::CheckingOut;
        }
        match op {
            CartOp::Add { product, qty, .. } => {
                let had = self.lines.get(&product.id).map_or(0, |line| line.quantity);
                if had + qty.get() > MAX_LINE_QUANTITY {
                    return CartChange::LineFull;
                }
                if had == 0 && self.lines.len() >= shared::stock::MAX_LINES {
                    return CartChange::CartFull;
                }
                let line = ItemRow {
                    order_id: self.order.id,
                    product_id: product.id,
                    name: product.name.clone(),
                    unit_price: product.price,
                    quantity: had + qty.get(),
                };
                self.lines.insert(product.id, line);
            }
            CartOp::Set { product, qty, .. } => {
                let Some(line) = self.lines.get_mut(&product.get()) else {
                    return CartChange::NotInCart;
                };
                match qty.get() {
                    0 => {
                        self.lines.remove(&product.get());
                    }
                    n => line.quantity = n,
                }
            }
        }
        CartChange::Changed(self.snapshot())
    }

    fn snapshot(&self) -> OrderWithItems {
        OrderWithItems::new(self.order.clone(), self.lines.values().cloned().collect())
    }

    /// The lines to write (new, or changed since read) and the products whose
    /// lines to delete.
    pub fn changes(&self) -> (Vec<ItemRow>, Vec<i64>) {
        let written = self
            .lines
            .values()
            .filter(|&line| self.read.get(&line.product_id) != Some(line))
            .cloned()
            .collect();
        let removed = self
            .read
            .keys()
            .filter(|product| !self.lines.contains_key(product))
            .copied()
            .collect();
        (written, removed)
    }

    pub fn order_id(&self) -> i64 {
        self.order.id
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;

    use super::*;

    fn cart(checkout_state: Option<&str>, lines: &[(i64, i64)]) -> Cart {
        let order = OrderRow {
            id: 7,
            user_id: 1,
            is_open: true,
            total: 0,
            created_at: NaiveDateTime::default(),
            checked_out_at: None,
            checkout_state: checkout_state.map(str::to_owned),
            checkout_reservation: checkout_state.map(|_| "o7-test".to_owned()),
            status: "open".into(),
            email: None,
            tracking_number: None,
            cancel_reason: None,
            shipping_address: None,
        };
        let items = lines
            .iter()
            .map(|&(product_id, quantity)| ItemRow {
                order_id: 7,
                product_id,
                name: format!("p{product_id}"),
                unit_price: 100,
                quantity,
            })
            .collect();
        Cart::new(order, items, true)
    }

    fn add(product: i64, qty: i64, price: i64) -> CartOp {
        CartOp::Add {
            user_id: 1,
            product: Product {
                id: product,
                name: format!("p{product}"),
                slug: format!("p{product}"),
                price,
                image: String::new(),
                description: String::new(),
                stock: None,
                hidden: false,
            },
            qty: AddQuantity::parse(Some(qty)).unwrap(),
        }
    }

    fn set(product: i64, qty: i64) -> CartOp {
        CartOp::Set {
            user_id: 1,
            product: ProductId::parse(Some(product)).unwrap(),
            qty: SetQuantity::parse(Some(qty)).unwrap(),
        }
    }

    fn quantities(change: CartChange) -> Vec<(i64, i64)> {
        let CartChange::Changed(cart) = change else {
            panic!("not changed: {change:?}");
        };
        cart.items
            .iter()
            .map(|i| (i.product_id, i.quantity))
            .collect()
    }

    #[test]
    fn adds_accumulate_and_refresh_the_price_and_sets_replace() {
        let mut cart = cart(None, &[(2, 1)]);
        assert_eq!(quantities(cart.apply(&add(2, 3, 150))), [(2, 4)]);
        assert_eq!(quantities(cart.apply(&add(1, 1, 100))), [(1, 1), (2, 4)]);
        assert_eq!(quantities(cart.apply(&set(2, 9))), [(1, 1), (2, 9)]);
        assert_eq!(quantities(cart.apply(&set(1, 0))), [(2, 9)]);
        let (written, removed) = cart.changes();
        assert_eq!(written.len(), 1);
        assert_eq!((written[0].quantity, written[0].unit_price), (9, 150));
        assert!(removed.is_empty(), "line 1 was new: nothing to delete");
    }

    #[test]
    fn refusals_leave_the_cart_as_it_was() {
        let mut cart = cart(None, &[(2, MAX_LINE_QUANTITY - 1)]);
        assert!(matches!(cart.apply(&add(2, 2, 100)), CartChange::LineFull));
        assert!(matches!(cart.apply(&set(3, 1)), CartChange::NotInCart));
        let (written, removed) = cart.changes();
        assert!(written.is_empty() && removed.is_empty());
        quantities(cart.apply(&add(2, 1, 100)));
        assert!(matches!(cart.apply(&add(2, 1, 100)), CartChange::LineFull));

        let full: Vec<(i64, i64)> = (1..=shared::stock::MAX_LINES as i64)
            .map(|p| (p, 1))
            .collect();
        let mut cart = self::cart(None, &full);
        assert!(matches!(
            cart.apply(&add(1000, 1, 100)),
            CartChange::CartFull
        ));
        quantities(cart.apply(&add(1, 1, 100)));

        let mut frozen = self::cart(Some("reserving"), &[(2, 1)]);
        assert!(matches!(
            frozen.apply(&add(2, 1, 100)),
            CartChange::CheckingOut
        ));
        assert!(matches!(frozen.apply(&set(2, 0)), CartChange::CheckingOut));
    }

    #[test]
    fn a_change_before_the_add_that_opens_the_cart_finds_none() {
        let mut opened = Cart::new(cart(None, &[]).order, vec![], false);
        assert!(matches!(opened.apply(&set(2, 1)), CartChange::NoCart));
        assert_eq!(quantities(opened.apply(&add(2, 1, 100))), [(2, 1)]);
        assert_eq!(quantities(opened.apply(&set(2, 5))), [(2, 5)]);
    }

    #[test]
    fn a_removed_line_that_was_stored_is_deleted() {
        let mut cart = cart(None, &[(2, 1), (3, 1)]);
        quantities(cart.apply(&set(3, 0)));
        assert_eq!(cart.changes(), (vec![], vec![3]));
    }
}
