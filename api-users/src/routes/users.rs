//! `/api/user/*` and `/api/users`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use server::auth::token_hash;
use server::{
    AdminUser, ApiError, ApiResult, BearerToken, ClientAddr, CurrentUser, Fields, Input, Page,
    Params,
};
use shared::{
    Created, ErrorBody, ExistsBody, ListBody, ListQuery, LoginRequest, LoginResponse,
    LogoutAllBody, MessageBody, RegisterRequest, ResultBody, User,
};

use crate::db::limits::{self, Slot};
use crate::db::models::NewUserRow;
use crate::db::queries::{self, Registration};
use crate::domain::{normalise, NewUser};
use crate::password::address_key;
use crate::state::AppState;
use crate::token;

/// How the limits key a client address: as the login limiter always has.
fn client_key(client: Option<std::net::IpAddr>) -> String {
    client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// Register a new user.
///
/// One client address registers at most `REGISTER_MAX_PER_ADDRESS` accounts an
/// hour: a valid registration is counted before its password is hashed, so a
/// burst of parallel ones gets exactly that many.
#[utoipa::path(post, path = "/api/user/create", tag = "users",
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[A-Za-z0-9_-]{1,64}$", description = server::openapi::IDEMPOTENCY_KEY_DOC)),
    request_body(content((RegisterRequest = "application/json"), (RegisterRequest = "application/x-www-form-urlencoded"))),
    responses(
        (status = 201, description = "User added", body = Created<User>),
        (status = 409, description = "username_taken or email_taken", body = ErrorBody),
        (status = 422, description = "validation_failed: invalid fields; idempotency_key_reused", body = ErrorBody),
        (status = 429, description = "rate_limited: too many registrations from this address", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Input(req): Input<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<Created<User>>)> {
    let new = NewUser::parse(&req)?;
    limits::take(&state.db, &state.config.registrations, &address_key(client))
        .await?
        .or_429()?;
    let hash = state
        .hasher
        .hash(client, new.password.expose().to_owned())
        .await?;
    let added = queries::insert_user(
        &state.db,
        NewUserRow {
            username: new.username.as_str(),
            email: new.email.as_str(),
            password_hash: &hash,
            first_name: &new.first_name,
            last_name: &new.last_name,
            is_admin: false,
            created_at: chrono::Utc::now().naive_utc(),
        },
    )
    .await?;
    let row = match added {
        Registration::Added(row) => row,
        Registration::UsernameTaken => {
            return Err(ApiError::conflict(
                "username_taken",
                "This username is taken",
            ))
        }
        Registration::EmailTaken => {
            return Err(ApiError::conflict(
                "email_taken",
                "This email is already registered",
            ))
        }
    };
    tracing::info!(user_id = row.id, "user registered");
    Ok((
        StatusCode::CREATED,
        Json(Created {
            message: "User added".into(),
            result: row.into(),
        }),
    ))
}

fn bad_credentials() -> ApiError {
    ApiError::unauthorized("bad_credentials", "Not logged in")
}

/// Log in; the answer carries the token to send as `Authorization: Bearer`.
///
/// Failed attempts are limited per username and client address together: a
/// slot is taken before the password is hashed, so a burst of parallel
/// guesses gets at most `LOGIN_MAX_FAILURES` checks per window, and the owner
/// logging in from another address is not locked out by them. An account also
/// has a ceiling across addresses, `LOGIN_ACCOUNT_MAX_FAILURES` an hour, taken
/// the same way, that holds back only addresses which have not logged in to
/// it in the last 30 days: the owner at home still gets in.
#[utoipa::path(post, path = "/api/user/login", tag = "users",
    request_body(content((LoginRequest = "application/json"), (LoginRequest = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 401, description = "bad_credentials, for an unknown user and a wrong password alike", body = ErrorBody),
        (status = 422, description = "username or password missing or empty", body = ErrorBody),
        (status = 429, description = "Too many failed logins for this username from this address, or for this account from new addresses", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Input(req): Input<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let mut fields = Fields::default();
    let required = |value: &str| {
        if value.trim().is_empty() {
            Err("is required".to_owned())
        } else {
            Ok(())
        }
    };
    fields.check("username", required(&req.username));
    fields.check("password", required(&req.password));
    fields.finish()?;
    let username: String = normalise(&req.username).to_lowercase();
    // No account has a longer name or password: wrong, without a hash.
    if username.chars().count() > 64 || req.password.chars().count() > 128 {
        return Err(bad_credentials());
    }
    let config = &state.config;
    let address = client_key(client);
    let pair = format!("{address} {username}");
    limits::take(&state.db, &config.login_pair, &pair)
        .await?
        .or_429()?;
    let user = queries::find_by_username(&state.db, &username).await?;
    let known = match &user {
        Some(user) => {
            let since = chrono::Utc::now().naive_utc() - config.known_address_for;
            queries::is_known_address(&state.db, user.id, &address, since).await?
        }
        None => false,
    };
    if !known {
        let slot = limits::take(&state.db, &config.login_account, &username).await?;
        if let Slot::Refused { .. } = slot {
            // Not checked, so not a failure of this address.
            limits::give_back(&state.db, &config.login_pair, &pair).await?;
            slot.or_429()?;
        }
    }
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    if !state.hasher.verify(client, req.password, hash).await? {
        return Err(bad_credentials());
    }
    let user = user.ok_or_else(bad_credentials)?;
    limits::forget(&state.db, &config.login_pair, &pair).await?;
    if !known {
        limits::give_back(&state.db, &config.login_account, &username).await?;
    }
    queries::remember_address(&state.db, user.id, &address).await?;
    let token = token::generate();
    queries::insert_token(
        &state.db,
        &token_hash(&token),
        user.id,
        config.token_ttl,
        config.tokens_per_user,
    )
    .await?;
    tracing::info!(user_id = user.id, "logged in");
    Ok(Json(LoginResponse {
        message: "Logged in".into(),
        api_key: token,
    }))
}

/// Log out everywhere: every token of the caller is dead from now on.
#[utoipa::path(post, path = "/api/user/logout-all", tag = "users",
    security(("token" = [])),
    responses(
        (status = 200, description = "Logged out everywhere", body = LogoutAllBody),
        (status = 401, description = "No live token", body = ErrorBody),
    ))]
pub async fn logout_all(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<LogoutAllBody>> {
    let revoked = queries::delete_tokens_of(&state.db, user.id).await?;
    tracing::info!(user_id = user.id, revoked, "logged out everywhere");
    Ok(Json(LogoutAllBody {
        message: "You are logged out everywhere".into(),
        revoked,
    }))
}

/// Log out: the token is dead from now on, on every service.
#[utoipa::path(post, path = "/api/user/logout", tag = "users",
    security(("token" = [])),
    responses(
        (status = 200, description = "Logged out", body = MessageBody),
        (status = 401, description = "No live token", body = ErrorBody),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    BearerToken(token): BearerToken,
) -> ApiResult<Json<MessageBody>> {
    if queries::delete_token(&state.db, &token_hash(&token)).await? {
        Ok(Json(MessageBody {
            message: "You are logged out".into(),
        }))
    } else {
        Err(ApiError::unauthorized("invalid_token", "Not logged in"))
    }
}

/// Whether a username is taken (case-insensitive).
#[utoipa::path(get, path = "/api/user/{username}/exists", tag = "users",
    params(("username" = String, Path)),
    responses(
        (status = 200, description = "Taken", body = ExistsBody),
        (status = 404, description = "Free", body = ExistsBody),
    ))]
pub async fn exists(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> ApiResult<Response> {
    // Nothing longer than a valid username can exist; don't query for it.
    let username = normalise(&username);
    let found = username.len() <= 64
        && queries::find_by_username(&state.db, &username)
            .await?
            .is_some();
    Ok(if found {
        Json(ExistsBody {
            result: true,
            message: None,
            error: None,
        })
        .into_response()
    } else {
        let body = ExistsBody {
            result: false,
            message: Some("Cannot find username".into()),
            error: Some("not_found".into()),
        };
        (StatusCode::NOT_FOUND, Json(body)).into_response()
    })
}

/// The logged-in user. Also how the other services verify a token.
#[utoipa::path(get, path = "/api/user", tag = "users",
    security(("token" = [])),
    responses(
        (status = 200, description = "The caller", body = ResultBody<User>),
        (status = 401, description = "No live token", body = ErrorBody),
    ))]
pub async fn me(CurrentUser(user): CurrentUser) -> Json<ResultBody<User>> {
    Json(ResultBody { result: user })
}

/// Every user, for admins.
#[utoipa::path(get, path = "/api/users", tag = "users",
    security(("token" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of users by id", body = ListBody<User>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminUser,
    Params(query): Params<ListQuery>,
) -> ApiResult<Json<ListBody<User>>> {
    let page = Page::parse(query.limit, query.offset)?;
    let (rows, total) = queries::list_users(&state.db, page).await?;
    Ok(Json(ListBody {
        results: rows.into_iter().map(User::from).collect(),
        total,
    }))
}
