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
        status -> Text,
        email -> Nullable<Text>,
        tracking_number -> Nullable<Text>,
        cancel_reason -> Nullable<Text>,
        shipping_address -> Nullable<Text>,
    }
}

// The same `orders` table, seen through the columns `orders` above has no
// room for (diesel's tables stop at 16 columns without a feature that slows
// every build): when the checkout attempt under way began, for the metrics.
diesel::table! {
    #[sql_name = "orders"]
    order_checkouts (id) {
        id -> BigInt,
        checkout_state -> Nullable<Text>,
        checkout_begun_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    order_events (id) {
        id -> BigInt,
        order_id -> BigInt,
        status -> Text,
        at -> Timestamp,
        actor -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        order_id -> BigInt,
        effect -> Text,
        dedupe -> Text,
        payload -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_at -> Timestamp,
        leased_until -> Nullable<Timestamp>,
        done_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
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

diesel::table! {
    payment_attempts (id) {
        id -> BigInt,
        order_id -> BigInt,
        attempt -> Integer,
        attempt_key -> Text,
        amount -> BigInt,
        intent_id -> Nullable<Text>,
        client_secret -> Nullable<Text>,
        status -> Text,
        error -> Nullable<Text>,
        confirmed -> Bool,
        pay_started_at -> Nullable<Timestamp>,
        refunded -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payment_events (id) {
        id -> Text,
        received_at -> Timestamp,
    }
}

diesel::joinable!(order_items -> orders (order_id));
diesel::joinable!(order_events -> orders (order_id));
diesel::joinable!(payment_attempts -> orders (order_id));
diesel::allow_tables_to_appear_in_same_query!(
    orders,
    order_items,
    order_events,
    outbox,
    payment_attempts
);
