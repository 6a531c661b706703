use futures_util::future::join_all;
use serde_json::{json, Value};
use shared::{Created, User};
use testkit::{assert_error, client, decode, json, username, users_service, Service};

fn registration(name: &str) -> Value {
    json!({
        "username": name,
        "email": format!("{name}@example.com"),
        "password": "correct horse",
        "first_name": "Ada",
        "last_name": "Lovelace",
    })
}

/// `POST /api/user/create` with a JSON body: status and raw body.
async fn create(users: &Service, body: &Value) -> (reqwest::StatusCode, Value) {
    json(
        client()
            .post(users.url("/api/user/create"))
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The keys of a User, exactly: nothing secret can hide in another one. (Raw
/// JSON: decoding into `User` would pass over a key it does not know.)
fn assert_user_shape(user: &Value) {
    let mut keys: Vec<&str> = user
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "email",
            "first_name",
            "id",
            "is_admin",
            "last_name",
            "username"
        ],
        "{user}"
    );
}

#[testkit::both_backends]
async fn register_with_json_returns_201_and_the_user(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("ada");
    let (status, body) = json(
        client()
            .post(users.url("/api/user/create"))
            .json(&registration(&name))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_user_shape(&body["result"]);
    let created: Created<User> = decode(&body);
    assert_eq!(created.message, "User added");
    let user = created.result;
    assert_eq!(user.username, name);
    assert_eq!(user.email, format!("{name}@example.com"));
    assert_eq!(user.first_name, "Ada");
    assert_eq!(user.last_name, "Lovelace");
    assert!(!user.is_admin);
    assert!(user.id > 0);
    // No secret anywhere in the raw body.
    assert!(!body.to_string().contains("correct horse"));
    assert!(!body.to_string().contains("argon2"));
}

#[testkit::both_backends]
async fn register_with_a_form_works_and_names_are_optional(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("form");
    let email = format!("{name}@example.com");
    let response = client()
        .post(users.url("/api/user/create"))
        .form(&[
            ("username", name.as_str()),
            ("email", email.as_str()),
            ("password", "password123"),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 201, "{body}");
    let user = decode::<Created<User>>(&body).result;
    assert_eq!(user.first_name, "");
    assert_eq!(user.last_name, "");
}

#[testkit::both_backends]
async fn duplicate_username_is_409_username_taken_whatever_the_case(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("dup");
    let c = client();
    let first = c
        .post(users.url("/api/user/create"))
        .json(&registration(&name))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let mut again = registration(&name.to_uppercase());
    again["email"] = json!("other@example.com");
    let (status, body) = json(
        c.post(users.url("/api/user/create"))
            .json(&again)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, 409, "username_taken");
}

#[testkit::both_backends]
async fn duplicate_email_is_409_email_taken(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("mail");
    let c = client();
    c.post(users.url("/api/user/create"))
        .json(&registration(&name))
        .send()
        .await
        .unwrap();
    let mut other = registration(&username("other"));
    other["email"] = json!(format!("{}@EXAMPLE.com", name));
    let (status, body) = json(
        c.post(users.url("/api/user/create"))
            .json(&other)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, 409, "email_taken");
}

#[testkit::both_backends]
async fn invalid_fields_are_422_naming_each_field(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let bad = json!({"username": "a b", "email": "not-an-email", "password": "short"});
    let (status, body) = json(
        client()
            .post(users.url("/api/user/create"))
            .json(&bad)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let error = assert_error(status, &body, 422, "validation_failed");
    let fields = error.fields.expect("fields");
    for field in ["username", "email", "password"] {
        assert!(fields.contains_key(field), "{field} missing in {body}");
    }
    let too_long =
        json!({"username": "x".repeat(33), "email": "x@y.io", "password": "p".repeat(129)});
    let (status, body) = json(
        client()
            .post(users.url("/api/user/create"))
            .json(&too_long)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let error = assert_error(status, &body, 422, "validation_failed");
    let fields = error.fields.unwrap_or_default();
    assert!(fields.contains_key("username"));
    assert!(fields.contains_key("password"));
    let (status, body) = json(
        client()
            .post(users.url("/api/user/create"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, 422, "validation_failed");
}

#[testkit::both_backends]
async fn ten_parallel_registrations_of_one_name_make_one_user(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("race");
    let c = client();
    let attempts = (0..10).map(|i| {
        let mut body = registration(&name);
        body["email"] = json!(format!("racer{i}@example.com"));
        c.post(users.url("/api/user/create")).json(&body).send()
    });
    let statuses: Vec<u16> = join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        9,
        "{statuses:?}"
    );
}

#[testkit::both_backends]
async fn ten_parallel_registrations_of_one_email_make_one_user(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let email = format!("{}@example.com", username("same"));
    let c = client();
    let attempts = (0..10).map(|_| {
        let mut body = registration(&username("racer"));
        body["email"] = json!(email);
        c.post(users.url("/api/user/create")).json(&body).send()
    });
    let responses = join_all(attempts).await;
    let mut created = 0;
    for response in responses {
        let (status, body) = json(response.unwrap()).await;
        match status.as_u16() {
            201 => created += 1,
            _ => {
                assert_error(status, &body, 409, "email_taken");
            }
        }
    }
    assert_eq!(created, 1);
}

#[testkit::both_backends]
async fn exists_says_true_for_a_user_and_404_otherwise(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("here");
    testkit::register(&users, &name).await;
    let (status, body) = json(
        client()
            .get(users.url(&format!("/api/user/{}/exists", name.to_uppercase())))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"result": true}));
    let (status, body) = json(
        client()
            .get(users.url("/api/user/nobody_here/exists"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"result": false, "message": "Cannot find username", "error": "not_found"})
    );
    let long = "y".repeat(500);
    let (status, _) = json(
        client()
            .get(users.url(&format!("/api/user/{long}/exists")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
}

#[testkit::both_backends]
async fn a_password_of_only_white_space_is_a_422_on_password(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    for blank in [
        "          ",
        "\t\t\t\t\n\n\n\n",
        "\u{3000}\u{3000}\u{a0}\u{2003}    ",
    ] {
        let mut body = registration(&username("blank"));
        body["password"] = json!(blank);
        let (status, answer) = create(&users, &body).await;
        let error = assert_error(status, &answer, 422, "validation_failed");
        let fields = error.fields.unwrap_or_default();
        assert_eq!(fields.keys().collect::<Vec<_>>(), ["password"], "{answer}");
    }
    // White space around other characters is a password like any other.
    let mut body = registration(&username("spaced"));
    body["password"] = json!("  a  b  c  ");
    let (status, answer) = create(&users, &body).await;
    assert_eq!(status, 201, "{answer}");
}

#[testkit::both_backends]
async fn an_email_differing_only_in_unicode_normalisation_is_taken(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let local = username("jos");
    // "é" composed (U+00E9), then "e" + a combining acute accent (U+0301).
    let mut first = registration(&username("composed"));
    first["email"] = json!(format!("{local}\u{e9}@example.com"));
    let (status, body) = create(&users, &first).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        decode::<Created<User>>(&body).result.email,
        format!("{local}\u{e9}@example.com")
    );
    let mut second = registration(&username("decomposed"));
    second["email"] = json!(format!("  {local}e\u{301}@example.com "));
    let (status, body) = create(&users, &second).await;
    assert_error(status, &body, 409, "email_taken");
    // Stored composed: registering decomposed first is the same account too.
    let local = username("rene");
    let mut decomposed = registration(&username("first"));
    decomposed["email"] = json!(format!("{local}e\u{301}@example.com"));
    let (status, body) = create(&users, &decomposed).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        decode::<Created<User>>(&body).result.email,
        format!("{local}\u{e9}@example.com"),
        "kept in its composed form"
    );
}

#[testkit::both_backends]
async fn registration_answers_are_never_stored_by_caches(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let c = client();
    let body = registration(&username("nocache"));
    for attempt in ["first", "replay"] {
        let response = c
            .post(users.url("/api/user/create"))
            .header("Idempotency-Key", "no-store-1")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{attempt}");
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{attempt}"
        );
    }
}
