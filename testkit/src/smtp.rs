//! A real SMTP server for the tests: aiosmtpd (PyPI), as `scripts/mail-catcher`
//! runs it for developers, keeping each message it accepts as one file of a
//! Maildir. Tests read what arrived ([`MailCatcher::messages`]), stop the
//! server to make the mail server "down", and start it again on the same port.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub message_id: String,
    pub to: String,
    pub subject: String,
    /// The whole message as received (headers and parts).
    pub raw: String,
}

impl Mail {
    fn parse(raw: String) -> Self {
        let header = |name: &str| {
            raw.lines()
                .take_while(|l| !l.is_empty())
                .find_map(|l| {
                    let (key, value) = l.split_once(':')?;
                    key.eq_ignore_ascii_case(name)
                        .then(|| value.trim().to_owned())
                })
                .unwrap_or_default()
        };
        Self {
            message_id: header("Message-ID"),
            to: header("To"),
            subject: header("Subject"),
            raw,
        }
    }
}

/// An SMTP server on a port of its own, with its Maildir.
pub struct MailCatcher {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

/// Installs aiosmtpd with pip when this Python lacks it (the tests start
/// what they need rather than skip).
fn ensure_installed() {
    let has = std::process::Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        let ok = std::process::Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "aiosmtpd>=1.4,<2"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "aiosmtpd (PyPI) is needed for the mail tests and could not be installed"
        );
    }
}

impl MailCatcher {
    pub async fn start() -> Self {
        ensure_installed();
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("port").port()
        };
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("maildir");
        }
        let mut catcher = Self {
            port,
            dir,
            child: None,
        };
        catcher.resume().await;
        catcher
    }

    /// `SMTP_URL` for a service that sends here.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn maildir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Stops the server: connections are refused until [`resume`](Self::resume).
    pub async fn pause(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts the server (again) on its port, and waits until it answers.
    pub async fn resume(&mut self) {
        assert!(self.child.is_none(), "the mail catcher is running already");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-u", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 -m aiosmtpd");
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the mail catcher did not start on port {}", self.port);
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Mail> {
        let mut mails: Vec<Mail> = std::fs::read_dir(self.dir.path().join("new"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .map(Mail::parse)
                    .collect()
            })
            .unwrap_or_default();
        mails.sort_by(|a, b| a.message_id.cmp(&b.message_id));
        mails
    }

    /// Waits (at most `within`) until `count` messages arrived; all of them.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Mail> {
        let start = std::time::Instant::now();
        loop {
            let mails = self.messages();
            if mails.len() >= count || start.elapsed() > within {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
