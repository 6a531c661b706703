//! The rules of a cart change, applied to a cart held in memory: what an add
//! or a quantity change does to the lines, and when it is refused. No
//! database here: [`batch`](super::batch) reads the carts, applies the
//! changes with these rules and writes back what differs.

use std::collections::BTreeMap;

use shared::Product;

use super::input::{AddQuantity, ProductId, SetQuantity, MAX_LINE_QUANTITY};

/// One line of a cart: a product, its name and price when last added, and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub product_id: i64,
    pub name: String,
    pub unit_price: i64,
    pub quantity: i64,
}

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

/// Why a cart change left the cart as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
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
    /// A checkout holds it (`checkout_state` is set).
    frozen: bool,
    /// False for a cart this batch opened, until its first add: the changes
    /// before that add found no cart.
    exists: bool,
    read: BTreeMap<i64, Line>,
    lines: BTreeMap<i64, Line>,
}

impl Cart {
    /// A cart with its stored `lines`; `frozen` when a checkout holds it;
    /// `existed` is false when the batch opened it for a change that adds.
    pub fn new(lines: Vec<Line>, frozen: bool, existed: bool) -> Self {
        let read: BTreeMap<i64, Line> = lines.into_iter().map(|l| (l.product_id, l)).collect();
        Self {
            frozen,
            exists: existed,
            lines: read.clone(),
            read,
        }
    }

    /// Applies `op` (of this cart's user): the lines after it, or why it was
    /// refused (the cart then is as it was).
    pub fn apply(&mut self, op: &CartOp) -> Result<Vec<Line>, Refusal> {
        if !self.exists && !op.opens_cart() {
            return Err(Refusal::NoCart);
        }
        self.exists = true;
        if self.frozen {
            return Err(Refusal::CheckingOut);
        }
        match op {
            CartOp::Add { product, qty, .. } => {
                let had = self.lines.get(&product.id).map_or(0, |line| line.quantity);
                if had + qty.get() > MAX_LINE_QUANTITY {
                    return Err(Refusal::LineFull);
                }
                if had == 0 && self.lines.len() >= shared::stock::MAX_LINES {
                    return Err(Refusal::CartFull);
                }
                let line = Line {
                    product_id: product.id,
                    name: product.name.clone(),
                    unit_price: product.price,
                    quantity: had + qty.get(),
                };
                self.lines.insert(product.id, line);
            }
            CartOp::Set { product, qty, .. } => {
                let Some(line) = self.lines.get_mut(&product.get()) else {
                    return Err(Refusal::NotInCart);
                };
                match qty.get() {
                    0 => {
                        self.lines.remove(&product.get());
                    }
                    n => line.quantity = n,
                }
            }
        }
        Ok(self.lines.values().cloned().collect())
    }

    /// The lines to write (new, or changed since read) and the products whose
    /// lines to delete.
    pub fn changes(&self) -> (Vec<Line>, Vec<i64>) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cart(frozen: bool, lines: &[(i64, i64)]) -> Cart {
        let lines = lines
            .iter()
            .map(|&(product_id, quantity)| Line {
                product_id,
                name: format!("p{product_id}"),
                unit_price: 100,
                quantity,
            })
            .collect();
        Cart::new(lines, frozen, true)
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

    fn quantities(change: Result<Vec<Line>, Refusal>) -> Vec<(i64, i64)> {
        let lines = change.unwrap_or_else(|refusal| panic!("not changed: {refusal:?}"));
        lines.iter().map(|l| (l.product_id, l.quantity)).collect()
    }

    #[test]
    fn adds_accumulate_and_refresh_the_price_and_sets_replace() {
        let mut cart = cart(false, &[(2, 1)]);
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
        let mut cart = cart(false, &[(2, MAX_LINE_QUANTITY - 1)]);
        assert!(matches!(
            cart.apply(&add(2, 2, 100)),
            Err(Refusal::LineFull)
        ));
        assert!(matches!(cart.apply(&set(3, 1)), Err(Refusal::NotInCart)));
        let (written, removed) = cart.changes();
        assert!(written.is_empty() && removed.is_empty());
        quantities(cart.apply(&add(2, 1, 100)));
        assert!(matches!(
            cart.apply(&add(2, 1, 100)),
            Err(Refusal::LineFull)
        ));

        let full: Vec<(i64, i64)> = (1..=shared::stock::MAX_LINES as i64)
            .map(|p| (p, 1))
            .collect();
        let mut cart = self::cart(false, &full);
        assert!(matches!(
            cart.apply(&add(1000, 1, 100)),
            Err(Refusal::CartFull)
        ));
        quantities(cart.apply(&add(1, 1, 100)));

        let mut frozen = self::cart(true, &[(2, 1)]);
        assert!(matches!(
            frozen.apply(&add(2, 1, 100)),
            Err(Refusal::CheckingOut)
        ));
        assert!(matches!(
            frozen.apply(&set(2, 0)),
            Err(Refusal::CheckingOut)
        ));
    }

    #[test]
    fn a_change_before_the_add_that_opens_the_cart_finds_none() {
        let mut opened = Cart::new(vec![], false, false);
        assert!(matches!(opened.apply(&set(2, 1)), Err(Refusal::NoCart)));
        assert_eq!(quantities(opened.apply(&add(2, 1, 100))), [(2, 1)]);
        assert_eq!(quantities(opened.apply(&set(2, 5))), [(2, 5)]);
    }

    #[test]
    fn a_removed_line_that_was_stored_is_deleted() {
        let mut cart = cart(false, &[(2, 1), (3, 1)]);
        quantities(cart.apply(&set(3, 0)));
        assert_eq!(cart.changes(), (vec![], vec![3]));
    }
}
