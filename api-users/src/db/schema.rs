//! The users service's tables, the same on both backends.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        email -> Text,
        password_hash -> Text,
        first_name -> Text,
        last_name -> Text,
        is_admin -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tokens (token_hash) {
        token_hash -> Binary,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    rate_limits (name, subject) {
        name -> Text,
        subject -> Text,
        hits -> Integer,
        window_start -> Timestamp,
    }
}

diesel::table! {
    login_addresses (user_id, client) {
        user_id -> BigInt,
        client -> Text,
        last_success -> Timestamp,
    }
}

diesel::joinable!(tokens -> users (user_id));
diesel::joinable!(login_addresses -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, tokens, rate_limits, login_addresses);
