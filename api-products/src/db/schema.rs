//! The products service's table, the same on both backends.

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
    }
}
