//! The users service: accounts and sessions.

use gloo_net::http::Method;
use shared::{
    Created, ExistsBody, LoginRequest, LoginResponse, MessageBody, RegisterRequest, ResultBody,
    User,
};

use super::{Api, ApiError, Call, Service};

/// The answer of `logout-all`; `revoked` may be missing from an older service.
#[derive(serde::Deserialize)]
struct LoggedOutEverywhere {
    #[serde(default)]
    revoked: i64,
}

fn encode(segment: &str) -> String {
    js_sys::encode_uri_component(segment).into()
}

impl Api {
    /// `POST /api/user/create`.
    pub async fn register(&self, req: &RegisterRequest, key: &str) -> Result<User, ApiError> {
        let call = Call::new(Service::Users, Method::POST, "/api/user/create")
            .idempotent(key)
            .json(req);
        self.send::<Created<User>>(call).await.map(|c| c.result)
    }

    /// `POST /api/user/login`: the token to keep.
    pub async fn login(&self, req: &LoginRequest) -> Result<String, ApiError> {
        let call = Call::new(Service::Users, Method::POST, "/api/user/login").json(req);
        self.send::<LoginResponse>(call).await.map(|r| r.api_key)
    }

    /// `POST /api/user/logout`: kills the token on every service.
    pub async fn logout(&self) -> Result<(), ApiError> {
        let call = Call::new(Service::Users, Method::POST, "/api/user/logout").authed();
        self.send::<MessageBody>(call).await.map(|_| ())
    }

    /// `POST /api/user/logout-all` (v1.1): kills every token of the user, on every
    /// device; answers how many were revoked.
    pub async fn logout_all(&self) -> Result<i64, ApiError> {
        let call = Call::new(Service::Users, Method::POST, "/api/user/logout-all").authed();
        self.send::<LoggedOutEverywhere>(call)
            .await
            .map(|r| r.revoked)
    }

    /// `GET /api/user`: who the session belongs to.
    pub async fn me(&self) -> Result<User, ApiError> {
        let call = Call::new(Service::Users, Method::GET, "/api/user").authed();
        self.send::<ResultBody<User>>(call).await.map(|r| r.result)
    }

    /// `GET /api/user/{username}/exists`: true when the name is taken.
    pub async fn username_taken(&self, username: &str) -> Result<bool, ApiError> {
        let path = format!("/api/user/{}/exists", encode(username));
        let call = Call::new(Service::Users, Method::GET, &path);
        match self.send::<ExistsBody>(call).await {
            Ok(body) => Ok(body.result),
            Err(ApiError::Rejected { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
