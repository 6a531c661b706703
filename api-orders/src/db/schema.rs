//! The orders service's tables, the same on both backends.

diesel::table! {
    orders (id) {
        id -> BigInt,
        user_id -> BigInt,
        is_open -> Bool,
        open_user_id -> Nullable<BigInt>,
        total -> BigInt,
        created_at -> Timestamp,
        checked_out_at -> Nullable<Timestamp>,
        checkout_state -> Nullable<Text>,
        checkout_key -> Nullable<Text>,
        checkout_started_at -> Nullable<Timestamp>,
        checkout_reservation -> Nullable<Text>,
    }
}

diesel::table! {
    order_items (order_id, product_id) {
        order_id -> BigInt,
        product_id -> BigInt,
        name -> Text,
        unit_price -> BigInt,
        quantity -> BigInt,
    }
}

diesel::joinable!(order_items -> orders (order_id));
diesel::allow_tables_to_appear_in_same_query!(orders, order_items);
