//! Sending an [`Email`] (the outbox composes them): over SMTP (`SMTP_URL`, the `lettre` crate), or, with
//! no mail server configured, as an `.eml` file in `MAIL_DIR`, named after its
//! `Message-ID` (a resend writes the same file).

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use serde::{Deserialize, Serialize};

use crate::config::{MailConfig, MailTransport};

/// One message, as kept in the outbox until it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    /// `<...@domain>`: the same for every send of this message.
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// How long one SMTP conversation may take, well inside the outbox lease.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a message was not sent.
#[derive(Debug)]
pub enum SendError {
    /// The mail server is down or said "later": try again.
    Later(String),
    /// The message can never be sent as it is (the server refused the
    /// address for good): recorded, not retried.
    Never(String),
}

#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Dir(PathBuf),
}

impl Mailer {
    pub fn new(config: &MailConfig) -> anyhow::Result<Self> {
        let transport = match &config.transport {
            MailTransport::Smtp(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            MailTransport::Dir(dir) => Transport::Dir(dir.clone()),
        };
        Ok(Self {
            transport,
            from: config
                .from
                .parse()
                .map_err(|e| anyhow::anyhow!("MAIL_FROM: {e}"))?,
        })
    }

    pub async fn send(&self, email: &Email) -> Result<(), SendError> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| SendError::Never(format!("recipient: {e}")))?;
        let message = Message::builder()
            .message_id(Some(email.message_id.clone()))
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| SendError::Never(e.to_string()))?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    SendError::Never(e.to_string())
                } else {
                    SendError::Later(e.to_string())
                }
            }),
            Transport::Dir(dir) => write_eml(dir, &email.message_id, &message.formatted())
                .await
                .map_err(|e| SendError::Later(format!("{}: {e}", dir.display()))),
        }
    }
}

/// Writes the message whole or not at all: to a temporary name, then renamed.
async fn write_eml(dir: &std::path::Path, message_id: &str, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let name: String = message_id
        .trim_matches(|c| c == '<' || c == '>')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(format!("{name}.eml"));
    let tmp = dir.join(format!(".{name}.eml.tmp"));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, &path).await
}
