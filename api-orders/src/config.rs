//! Every setting of the orders service beyond the common ones (`server`'s
//! `Settings`), read once in [`crate::build`] and handed down.

use std::path::PathBuf;
use std::time::Duration;

use server::config::{var, var_parsed};
use server::{ServiceToken, Settings};

/// The orders service's own settings.
#[derive(Clone)]
pub struct Config {
    /// `SERVICE_TOKEN`: how this service reserves stock at the products service.
    pub service_token: ServiceToken,
    pub repair: RepairConfig,
    pub lifecycle: LifecycleConfig,
    pub mail: MailConfig,
    /// `STRIPE_SECRET_KEY` and friends: `None` when payments are off.
    pub payments: Option<PaymentsConfig>,
    /// `FAILPOINT`: a crash point for the tests (debug builds only).
    pub failpoint: Option<String>,
}

/// When and how often checkout attempts that died are repaired.
#[derive(Debug, Clone, Copy)]
pub struct RepairConfig {
    /// `CHECKOUT_REPAIR_AFTER_SECS`, default 30: an attempt this old is dead.
    /// It must exceed the request time limit plus a call to the products
    /// service, so that no live request is ever undone under its feet. A
    /// checkout's `Idempotency-Key` claim is taken over after the same time.
    pub after: Duration,
    /// `CHECKOUT_REPAIR_EVERY_MS`, default 5000: how often each replica looks.
    pub every: Duration,
}

/// The order lifecycle's clocks.
#[derive(Debug, Clone, Copy)]
pub struct LifecycleConfig {
    /// `ORDER_PAYMENT_TTL_SECS`, default 900: an order awaiting payment this
    /// long is cancelled (`payment_timeout`) and its stock released.
    pub payment_ttl: Duration,
    /// `ORDER_EXPIRY_EVERY_MS`, default 10000: how often each replica looks
    /// for such orders.
    pub expiry_every: Duration,
    /// `OUTBOX_POLL_MS`, default 1000: how often each replica's relay looks
    /// for effects to carry out (it is also woken at once by a change made
    /// in its own process).
    pub outbox_every: Duration,
}

/// Where the shop's emails go, and what they say about the shop.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub transport: MailTransport,
    /// `MAIL_FROM`, default `Cartwheel <orders@cartwheel.localhost>`.
    pub from: String,
    /// `MERCHANT_EMAIL`: told of every order placed or paid; unset: nobody.
    pub merchant: Option<String>,
    /// `SHOP_NAME`, default `Cartwheel`.
    pub shop_name: String,
    /// `PUBLIC_SHOP_URL`, default `http://127.0.0.1:8080`: the SPA, for the
    /// link to the order's page.
    pub public_shop_url: String,
}

/// Payments through Stripe's PaymentIntents API (contract v1.3, "Payments"):
/// on when `STRIPE_SECRET_KEY` is set.
#[derive(Clone)]
pub struct PaymentsConfig {
    /// `STRIPE_SECRET_KEY`: never logged, never answered.
    pub secret_key: String,
    /// `STRIPE_API_BASE`, default `https://api.stripe.com` (a local emulator's
    /// URL in development and tests).
    pub api_base: String,
    /// `STRIPE_WEBHOOK_SECRET`: signs the provider's webhooks; required.
    pub webhook_secret: String,
    /// `CURRENCY`, default `usd`: of every PaymentIntent.
    pub currency: String,
    /// How long a call to the provider may take (`UPSTREAM_TIMEOUT_MS`).
    pub timeout: Duration,
    /// `PAYMENT_RECONCILE_AFTER_SECS`, default 60: an order awaiting payment
    /// this long is checked with the provider by the reconcile sweep (a lost
    /// webhook never loses a payment); also how long after a `pay` the expiry
    /// sweep waits.
    pub reconcile_after: Duration,
}

impl std::fmt::Debug for PaymentsConfig {
    /// Without the secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentsConfig")
            .field("api_base", &self.api_base)
            .field("currency", &self.currency)
            .finish_non_exhaustive()
    }
}

impl PaymentsConfig {
    fn from_vars(
        settings: &Settings,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Option<Self>> {
        let Some(secret_key) = var(vars, "STRIPE_SECRET_KEY") else {
            return Ok(None);
        };
        anyhow::ensure!(
            secret_key.starts_with("sk_") || secret_key.starts_with("rk_"),
            "STRIPE_SECRET_KEY must be a secret key (sk_...)"
        );
        let webhook_secret = var(vars, "STRIPE_WEBHOOK_SECRET").ok_or_else(|| {
            anyhow::anyhow!("STRIPE_WEBHOOK_SECRET is required when STRIPE_SECRET_KEY is set")
        })?;
        let api_base = var(vars, "STRIPE_API_BASE")
            .unwrap_or_else(|| "https://api.stripe.com".into())
            .trim_end_matches('/')
            .to_owned();
        anyhow::ensure!(
            api_base.starts_with("http://") || api_base.starts_with("https://"),
            "STRIPE_API_BASE must be an http(s) URL, got {api_base:?}"
        );
        let currency = var(vars, "CURRENCY")
            .unwrap_or_else(|| "usd".into())
            .to_ascii_lowercase();
        anyhow::ensure!(
            currency.len() == 3 && currency.chars().all(|c| c.is_ascii_alphabetic()),
            "CURRENCY must be an ISO 4217 code such as usd, got {currency:?}"
        );
        Ok(Some(Self {
            secret_key,
            api_base,
            webhook_secret,
            currency,
            timeout: settings.limits.upstream_timeout,
            reconcile_after: Duration::from_secs(positive(
                vars,
                "PAYMENT_RECONCILE_AFTER_SECS",
                60,
            )?),
        }))
    }
}

#[derive(Debug, Clone)]
pub enum MailTransport {
    /// `SMTP_URL` (`smtp://host:port`, `smtps://user:pass@host`).
    Smtp(String),
    /// `SMTP_URL` unset: each message an `.eml` file in `MAIL_DIR` (default
    /// `data/mail/`).
    Dir(PathBuf),
}

impl Config {
    pub fn from_vars(
        settings: &Settings,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            service_token: ServiceToken::from_vars(settings, vars)?,
            repair: RepairConfig::from_vars(settings, vars)?,
            lifecycle: LifecycleConfig {
                payment_ttl: Duration::from_secs(positive(vars, "ORDER_PAYMENT_TTL_SECS", 900)?),
                expiry_every: Duration::from_millis(positive(
                    vars,
                    "ORDER_EXPIRY_EVERY_MS",
                    10_000,
                )?),
                outbox_every: Duration::from_millis(positive(vars, "OUTBOX_POLL_MS", 1_000)?),
            },
            mail: MailConfig::from_vars(vars)?,
            payments: PaymentsConfig::from_vars(settings, vars)?,
            failpoint: var(vars, "FAILPOINT"),
        })
    }
}

/// A positive whole number setting, or its default.
fn positive(
    vars: &dyn Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
) -> anyhow::Result<u64> {
    match var_parsed::<u64>(vars, name)? {
        Some(0) => anyhow::bail!("{name} must be a positive whole number, got 0"),
        Some(n) => Ok(n),
        None => Ok(default),
    }
}

impl RepairConfig {
    fn from_vars(
        settings: &Settings,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let config = Self {
            after: Duration::from_secs(positive(vars, "CHECKOUT_REPAIR_AFTER_SECS", 30)?),
            every: Duration::from_millis(positive(vars, "CHECKOUT_REPAIR_EVERY_MS", 5000)?),
        };
        let live_for = settings.limits.request_timeout + settings.limits.upstream_timeout;
        anyhow::ensure!(
            config.after > live_for,
            "CHECKOUT_REPAIR_AFTER_SECS ({}s) must exceed REQUEST_TIMEOUT_MS + UPSTREAM_TIMEOUT_MS ({}ms)",
            config.after.as_secs(),
            live_for.as_millis()
        );
        Ok(config)
    }
}

impl MailConfig {
    fn from_vars(vars: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let transport = match var(vars, "SMTP_URL") {
            Some(url) => {
                // Refused now, with its name, rather than at the first email.
                check_smtp_url(&url)
                    .map_err(|e| anyhow::anyhow!("SMTP_URL: cannot use it: {e}"))?;
                MailTransport::Smtp(url)
            }
            None => MailTransport::Dir(
                var(vars, "MAIL_DIR")
                    .unwrap_or_else(|| "data/mail".into())
                    .into(),
            ),
        };
        let from = var(vars, "MAIL_FROM")
            .unwrap_or_else(|| "Cartwheel <orders@cartwheel.localhost>".into());
        check_address(&from).map_err(|e| anyhow::anyhow!("MAIL_FROM: cannot use {from:?}: {e}"))?;
        let merchant = var(vars, "MERCHANT_EMAIL");
        if let Some(merchant) = &merchant {
            check_address(merchant)
                .map_err(|e| anyhow::anyhow!("MERCHANT_EMAIL: cannot use {merchant:?}: {e}"))?;
        }
        Ok(Self {
            transport,
            from,
            merchant,
            shop_name: var(vars, "SHOP_NAME").unwrap_or_else(|| "Cartwheel".into()),
            public_shop_url: var(vars, "PUBLIC_SHOP_URL")
                .unwrap_or_else(|| "http://127.0.0.1:8080".into())
                .trim_end_matches('/')
                .to_owned(),
        })
    }
}

/// Whether `address` is a mailbox (`a@b.c` or `Name <a@b.c>`).
fn check_address(address: &str) -> Result<(), String> {
    address
        .parse::<lettre::message::Mailbox>()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Whether `url` is an SMTP URL lettre can use.
fn check_smtp_url(url: &str) -> Result<(), String> {
    lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = |name: &str| vars.get(name).cloned();
        let settings = Settings::from_vars("api-orders", 5003, lookup)?;
        Config::from_vars(&settings, &lookup)
    }

    #[test]
    fn defaults_make_a_development_shop() {
        let config = config(&[]).unwrap();
        assert_eq!(config.lifecycle.payment_ttl, Duration::from_secs(900));
        assert!(
            matches!(config.mail.transport, MailTransport::Dir(ref d) if d.ends_with("data/mail"))
        );
        assert_eq!(config.mail.merchant, None);
        assert!(config.payments.is_none(), "payments are off without a key");
    }

    #[test]
    fn payments_need_their_webhook_secret_and_hide_their_key() {
        let err = config(&[("STRIPE_SECRET_KEY", "sk_test_1")]).err();
        assert!(err.is_some_and(|e| e.to_string().contains("STRIPE_WEBHOOK_SECRET")));
        let keys = [
            ("STRIPE_SECRET_KEY", "sk_test_secret"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_x"),
        ];
        // The real API by default, over TLS.
        let real = config(&keys).unwrap().payments.unwrap();
        assert_eq!(real.api_base, "https://api.stripe.com");
        let err = config(&[keys[0], keys[1], ("STRIPE_API_BASE", "ftp://x")]).err();
        assert!(err.is_some_and(|e| e.to_string().contains("STRIPE_API_BASE")));
        let config = config(&[
            keys[0],
            keys[1],
            ("STRIPE_API_BASE", "http://127.0.0.1:8420/"),
            ("CURRENCY", "EUR"),
        ])
        .unwrap();
        let payments = config.payments.unwrap();
        assert_eq!(payments.currency, "eur");
        assert_eq!(payments.api_base, "http://127.0.0.1:8420");
        assert!(!format!("{payments:?}").contains("sk_test_secret"));
    }

    #[test]
    fn a_bad_value_names_its_setting() {
        for (name, value) in [
            ("ORDER_PAYMENT_TTL_SECS", "15m"),
            ("ORDER_PAYMENT_TTL_SECS", "0"),
            ("CHECKOUT_REPAIR_AFTER_SECS", "-1"),
            ("MERCHANT_EMAIL", "not an address"),
            ("SMTP_URL", "mailto:me"),
            ("STRIPE_SECRET_KEY", "pk_test_1"),
        ] {
            let err = config(&[(name, value)]).err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains(name)),
                "{name}={value}: {err:?}"
            );
        }
    }
}
