//! The demo catalogue a fresh database starts with, so the shop is never empty:
//! a small coffee and homeware shop, each product with its own drawn picture
//! (see `images`) and its stock counted, one nearly sold out so the shop shows
//! what "only 3 left" looks like.

/// One product of the demo catalogue.
pub struct DemoProduct {
    pub name: &'static str,
    pub slug: &'static str,
    /// Cents.
    pub price: i64,
    /// Units in stock.
    pub stock: i64,
    /// A file of `images::ALL`.
    pub image: &'static str,
    pub description: &'static str,
}

pub static DEMO: &[DemoProduct] = &[
    DemoProduct {
        name: "Stoneware Mug",
        slug: "stoneware-mug",
        price: 1800,
        stock: 40,
        image: "stoneware-mug.svg",
        description: "A generous 350 ml mug thrown in speckled stoneware and finished in a \
            terracotta glaze. Thick walls keep coffee hot; dishwasher and microwave safe.",
    },
    DemoProduct {
        name: "Pour-Over Coffee Dripper",
        slug: "pour-over-coffee-dripper",
        price: 2400,
        stock: 25,
        image: "pour-over-dripper.svg",
        description: "Porcelain cone dripper with spiral ribs for an even extraction. \
            Sits on most mugs and carafes and takes size 02 paper filters.",
    },
    DemoProduct {
        name: "Glass Teapot",
        slug: "glass-teapot",
        price: 3200,
        stock: 12,
        image: "glass-teapot.svg",
        description: "A 900 ml borosilicate teapot with a removable stainless steel infuser, \
            so you can watch the leaves unfurl and lift them out when the tea is just right.",
    },
    DemoProduct {
        name: "House Blend Coffee Beans 250 g",
        slug: "house-blend-coffee-beans-250-g",
        price: 1150,
        stock: 60,
        image: "house-blend-beans.svg",
        description: "Our everyday blend of Brazilian and Ethiopian beans, roasted medium \
            every Monday. Notes of milk chocolate, hazelnut and red apple. Whole bean.",
    },
    DemoProduct {
        name: "Linen Tea Towel",
        slug: "linen-tea-towel",
        price: 1400,
        stock: 35,
        image: "linen-tea-towel.svg",
        description: "Stonewashed European linen, 50 x 70 cm, with a woven stripe and a \
            hanging loop. Dries glasses without lint and softens with every wash.",
    },
    DemoProduct {
        name: "French Press 8 Cup",
        slug: "french-press-8-cup",
        price: 3900,
        stock: 15,
        image: "french-press.svg",
        description: "A one-litre cafetière with a heat-resistant glass jug, brushed steel \
            frame and a four-part mesh filter that keeps the grounds where they belong.",
    },
    DemoProduct {
        name: "Hand Coffee Grinder",
        slug: "hand-coffee-grinder",
        price: 5400,
        stock: 8,
        image: "hand-coffee-grinder.svg",
        description: "Ceramic conical burrs, 18 grind settings from espresso to cold brew, \
            and a walnut knob. Grinds enough for two cups in under a minute.",
    },
    DemoProduct {
        name: "Espresso Cups, Set of 2",
        slug: "espresso-cups-set-of-2",
        price: 2200,
        stock: 18,
        image: "espresso-cups.svg",
        description: "Two 80 ml porcelain cups with matching saucers. The thick base holds \
            the heat so the crema lasts until the last sip.",
    },
    DemoProduct {
        name: "Earl Grey Loose Leaf Tea 100 g",
        slug: "earl-grey-loose-leaf-tea-100-g",
        price: 950,
        stock: 50,
        image: "earl-grey-tin.svg",
        description: "Assam and Ceylon black tea scented with cold-pressed Calabrian bergamot, \
            in a resealable tin. Makes about forty cups.",
    },
    DemoProduct {
        name: "Oak Serving Board",
        slug: "oak-serving-board",
        price: 4500,
        stock: 10,
        image: "oak-serving-board.svg",
        description: "Cut from a single piece of FSC-certified European oak and oiled by hand. \
            45 x 20 cm, with a handle for hanging. Cheese not included.",
    },
    DemoProduct {
        name: "Beeswax Pillar Candle",
        slug: "beeswax-pillar-candle",
        price: 1600,
        stock: 30,
        image: "beeswax-candle.svg",
        description: "Pure beeswax with a cotton wick. Burns for around 40 hours with a faint \
            scent of honey and no soot.",
    },
    DemoProduct {
        name: "Gooseneck Kettle",
        slug: "gooseneck-kettle",
        price: 6900,
        stock: 3,
        image: "gooseneck-kettle.svg",
        description: "A 1-litre stovetop kettle with a slender spout for slow, precise pouring \
            and a built-in thermometer in the lid. Works on gas, electric and induction.",
    },
    DemoProduct {
        name: "Wool Felt Coasters, Set of 4",
        slug: "wool-felt-coasters-set-of-4",
        price: 1200,
        stock: 45,
        image: "wool-coasters.svg",
        description: "Four thick 10 cm coasters of pressed merino felt in warm autumn colours. \
            They soak up drips and protect wooden tables from hot mugs.",
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ProductName, Slug};

    #[test]
    fn demo_products_are_valid_and_distinct() {
        assert!(DEMO.len() >= 12);
        for product in DEMO {
            let name = ProductName::parse(product.name).unwrap();
            assert_eq!(name.as_str(), product.name);
            assert_eq!(Slug::from_name(&name).unwrap().as_str(), product.slug);
            assert!(
                crate::images::find(product.image).is_some(),
                "{}",
                product.image
            );
            assert!(product.price > 0 && product.description.len() > 40);
        }
        let nearly_gone = DEMO.iter().filter(|p| p.stock <= 5).count();
        assert_eq!(nearly_gone, 1, "exactly one product with only a few left");
        assert!(DEMO.iter().all(|p| p.stock > 0));
        let mut slugs: Vec<_> = DEMO.iter().map(|p| p.slug).collect();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), DEMO.len());
    }
}
