//! The products service's tables, the same on both backends. Released
//! migrations also made tables this release no longer reads, which a later
//! release drops: the FTS5 `products_search` (SQLite) and `catalogue_counts`,
//! still kept by their triggers for a replica of the previous release during
//! an upgrade, and the v1.2 `stock_reservations`.

diesel::table! {
    products (id) {
        id -> BigInt,
        name -> Text,
        name_key -> Text,
        slug -> Text,
        price -> BigInt,
        image -> Text,
        description -> Text,
        created_at -> Timestamp,
        stock -> Nullable<BigInt>,
        hidden -> Bool,
    }
}

diesel::table! {
    /// The catalogue's revision, one row bumped by triggers on every insert,
    /// delete and change of a name, a price or `hidden` (migrations
    /// `2026-12-05-000000_revision`, `2026-12-07-000000_revision_price`):
    /// when the names in memory reload.
    catalogue_revision (id) {
        id -> Integer,
        revision -> BigInt,
    }
}

diesel::table! {
    /// One checkout attempt's reservation, or a release's tombstone
    /// (migration `2026-12-06-000000_reservations`; the v1.2 tables
    /// `stock_reservations` and `stock_reservation_lines` are no longer used).
    reservations (reservation) {
        reservation -> Text,
        order_id -> Nullable<BigInt>,
        released -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    reservation_lines (reservation, product_id) {
        reservation -> Text,
        product_id -> BigInt,
        qty -> BigInt,
    }
}

diesel::joinable!(reservation_lines -> reservations (reservation));
diesel::joinable!(reservation_lines -> products (product_id));

diesel::allow_tables_to_appear_in_same_query!(
    catalogue_revision,
    products,
    reservations,
    reservation_lines,
);
