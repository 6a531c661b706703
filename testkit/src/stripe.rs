//! A real Stripe emulator for the tests: localstripe (PyPI), a stateful
//! stand-in for Stripe's API (PaymentIntents, test cards, 3-D Secure, signed
//! webhooks), on a port of its own, with its state in memory only (its usual
//! `/tmp/localstripe.pickle`, which every instance would share, is switched
//! off). Tests drive the orders service against it, play the browser's part
//! (tokens, the bank's second step) and read what the provider holds.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::{Child, Command};

/// The emulator's secret key (any `sk_...` works).
pub const SECRET_KEY: &str = "sk_test_cartwheel_tests";
/// The publishable key, as the SPA would have it.
pub const PUBLISHABLE_KEY: &str = "pk_test_cartwheel_tests";
/// The webhook endpoint's signing secret.
pub const WEBHOOK_SECRET: &str = "whsec_cartwheel_tests";

/// Test cards the emulator knows.
pub mod cards {
    pub const VISA: &str = "4242424242424242";
    /// Declined when charged.
    pub const DECLINED: &str = "4000000000000341";
    /// Asks for the bank's second step (3-D Secure).
    pub const AUTHENTICATE: &str = "4000002500003155";
}

/// `scripts/localstripe`: the one way the project starts the emulator
/// (installed once into a virtual environment under `target/`).
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/localstripe");

/// Installs the emulator once per test process, before any test waits on
/// one to answer (the first install takes a minute).
fn ensure_installed() {
    static INSTALLED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    INSTALLED.get_or_init(|| {
        let ok = std::process::Command::new(SCRIPT)
            .arg("--install")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "scripts/localstripe --install failed (PyPI reachable?)");
    });
}

/// The emulator on a port of its own.
pub struct LocalStripe {
    pub port: u16,
    child: Child,
    http: reqwest::Client,
}

impl LocalStripe {
    pub async fn start() -> Self {
        tokio::task::spawn_blocking(ensure_installed)
            .await
            .expect("install localstripe");
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("port").port()
        };
        let child = Command::new(SCRIPT)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("scripts/localstripe");
        let stripe = Self {
            port,
            child,
            http: reqwest::Client::new(),
        };
        for _ in 0..300 {
            let answered = stripe
                .http
                .get(stripe.url("/v1/payment_intents"))
                .bearer_auth(SECRET_KEY)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if answered {
                return stripe;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("localstripe did not start on port {port}");
    }

    /// `STRIPE_API_BASE` for a service that talks to it.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// The orders service's settings for payments through this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("STRIPE_SECRET_KEY", SECRET_KEY.to_owned()),
            ("STRIPE_API_BASE", self.base()),
            ("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
        ]
    }

    /// Sends every event to `url`, signed with [`WEBHOOK_SECRET`].
    pub async fn register_webhook(&self, url: &str) {
        let response = self
            .http
            .post(self.url("/_config/webhooks/orders"))
            .form(&[("url", url), ("secret", WEBHOOK_SECRET)])
            .send()
            .await
            .expect("register the webhook");
        assert!(response.status().is_success(), "webhook registration");
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("localstripe answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A card token, as Stripe.js's `createToken` makes it in the browser
    /// (with the publishable key): its `tok_...` id.
    pub async fn token(&self, number: &str) -> String {
        let (status, body) = self
            .call(self.http.post(self.url("/v1/tokens")).form(&[
                ("key", PUBLISHABLE_KEY),
                ("card[number]", number),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2030"),
                ("card[cvc]", "123"),
            ]))
            .await;
        assert_eq!(status, 200, "token: {body}");
        body["id"].as_str().expect("token id").to_owned()
    }

    /// A PaymentMethod of `number`: its `pm_...` id.
    pub async fn payment_method(&self, number: &str) -> String {
        let (status, body) = self
            .call(
                self.http
                    .post(self.url("/v1/payment_methods"))
                    .bearer_auth(SECRET_KEY)
                    .form(&[
                        ("type", "card"),
                        ("card[number]", number),
                        ("card[exp_month]", "12"),
                        ("card[exp_year]", "2030"),
                        ("card[cvc]", "123"),
                    ]),
            )
            .await;
        assert_eq!(status, 200, "payment method: {body}");
        body["id"].as_str().expect("pm id").to_owned()
    }

    /// The bank's second step, as Stripe.js completes it with the client
    /// secret: passed or failed.
    pub async fn authenticate(&self, client_secret: &str, success: bool) {
        let intent = client_secret
            .split("_secret_")
            .next()
            .expect("a client secret names its PaymentIntent");
        let (status, body) = self
            .call(
                self.http
                    .post(self.url(&format!("/v1/payment_intents/{intent}/_authenticate")))
                    .form(&[
                        ("key", PUBLISHABLE_KEY),
                        ("client_secret", client_secret),
                        ("success", if success { "true" } else { "false" }),
                    ]),
            )
            .await;
        assert_eq!(status, 200, "authenticate: {body}");
    }

    /// Confirms a PaymentIntent at the provider behind the shop's back (as
    /// a browser holding its client secret could): its status after.
    pub async fn confirm_directly(&self, intent_id: &str, payment_method: &str) -> String {
        let (status, body) = self
            .call(
                self.http
                    .post(self.url(&format!("/v1/payment_intents/{intent_id}")))
                    .bearer_auth(SECRET_KEY)
                    .form(&[("payment_method", payment_method)]),
            )
            .await;
        assert_eq!(status, 200, "set the payment method: {body}");
        let (status, body) = self
            .call(
                self.http
                    .post(self.url(&format!("/v1/payment_intents/{intent_id}/confirm")))
                    .bearer_auth(SECRET_KEY),
            )
            .await;
        assert_eq!(status, 200, "confirm: {body}");
        body["status"].as_str().unwrap_or_default().to_owned()
    }

    /// One PaymentIntent as the provider has it.
    pub async fn intent(&self, intent_id: &str) -> Value {
        let (status, body) = self
            .call(
                self.http
                    .get(self.url(&format!("/v1/payment_intents/{intent_id}")))
                    .bearer_auth(SECRET_KEY),
            )
            .await;
        assert_eq!(status, 200, "intent: {body}");
        body
    }

    /// Every PaymentIntent the emulator holds.
    pub async fn intents(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("limit", "100".to_owned())];
            if let Some(after) = &after {
                query.push(("starting_after", after.clone()));
            }
            let (status, body) = self
                .call(
                    self.http
                        .get(self.url("/v1/payment_intents"))
                        .bearer_auth(SECRET_KEY)
                        .query(&query),
                )
                .await;
            assert_eq!(status, 200, "intents: {body}");
            let page = body["data"].as_array().cloned().unwrap_or_default();
            after = page
                .last()
                .and_then(|i| i["id"].as_str())
                .map(str::to_owned);
            all.extend(page);
            if body["has_more"] != Value::Bool(true) || after.is_none() {
                return all;
            }
        }
    }

    /// The PaymentIntents of an order (by `metadata.order_id`).
    pub async fn intents_of(&self, order_id: i64) -> Vec<Value> {
        let id = order_id.to_string();
        self.intents()
            .await
            .into_iter()
            .filter(|i| i["metadata"]["order_id"].as_str() == Some(id.as_str()))
            .collect()
    }

    /// The cents refunded of a PaymentIntent.
    pub async fn refunded(&self, intent_id: &str) -> i64 {
        let (status, body) = self
            .call(
                self.http
                    .get(self.url("/v1/refunds"))
                    .bearer_auth(SECRET_KEY)
                    .query(&[("payment_intent", intent_id), ("limit", "100")]),
            )
            .await;
        assert_eq!(status, 200, "refunds: {body}");
        body["data"]
            .as_array()
            .map(|refunds| refunds.iter().filter_map(|r| r["amount"].as_i64()).sum())
            .unwrap_or(0)
    }

    /// What the provider holds: the sum of succeeded PaymentIntents less
    /// their refunds.
    pub async fn held(&self) -> i64 {
        let mut held = 0;
        for intent in self.intents().await {
            if intent["status"] == "succeeded" {
                let id = intent["id"].as_str().expect("id");
                held += intent["amount"].as_i64().expect("amount") - self.refunded(id).await;
            }
        }
        held
    }

    /// Stops the emulator's process where it is (SIGSTOP): calls hang.
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// Lets it run again (SIGCONT), its state intact.
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = self.child.id().expect("localstripe runs") as libc::pid_t;
        // SAFETY: sending a signal to a child process this struct owns.
        #[allow(unsafe_code)]
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "signal localstripe");
    }
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        // A paused emulator must not outlive its test.
        if let Some(pid) = self.child.id() {
            #[allow(unsafe_code)]
            // SAFETY: as above, to our own child.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGCONT);
            }
        }
        let _ = self.child.start_kill();
    }
}
