//! A real SMTP server for the mail tests (Debian's `python3-aiosmtpd`, STARTTLS with a test
//! CA made by `openssl`), and the small helpers of tests that send studio forms.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use follicle_web::ServerConfig;
use follicle_web::config::MailTls;

use crate::support::{Answer, Auth, Payload};

/// An SMTP server on a free port that writes each message into a maildir; stopped on drop.
/// It speaks STARTTLS with a certificate of its own test CA and refuses mail before it (so
/// every mail test also shows the relay is reached over TLS), and `config` points
/// `[mail]` at it.
pub struct MailCatcher {
    child: Child,
    port: u16,
    dir: PathBuf,
    ca_file: PathBuf,
}

/// Runs `openssl` (Debian's; scripts/test installs it) with these arguments in `dir`.
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl (install Debian's openssl; scripts/test does)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl MailCatcher {
    pub fn start() -> MailCatcher {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let root = follicle_store::testing::temp_dir();
        // A CA, and the relay's certificate for 127.0.0.1 signed by it.
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            &root,
            &[
                &["req", "-x509"][..],
                &ec[..],
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=Follicle test CA",
                ],
            ]
            .concat(),
        );
        openssl(
            &root,
            &[
                &["req"][..],
                &ec[..],
                &[
                    "-keyout",
                    "relay.key",
                    "-out",
                    "relay.csr",
                    "-subj",
                    "/CN=127.0.0.1",
                ],
            ]
            .concat(),
        );
        std::fs::write(
            root.join("relay.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        openssl(
            &root,
            &[
                "x509",
                "-req",
                "-in",
                "relay.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "relay.pem",
                "-days",
                "2",
                "-extfile",
                "relay.ext",
            ],
        );
        // Maildir creates the folder itself (and refuses a half-made one).
        let dir = root.join("maildir");
        let child = Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .arg("--tlscert")
            .arg(root.join("relay.pem"))
            .arg("--tlskey")
            .arg(root.join("relay.key"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "start /usr/bin/python3 -m aiosmtpd (install Debian's python3-aiosmtpd; scripts/test does)",
            );
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        MailCatcher {
            child,
            port,
            dir,
            ca_file: root.join("ca.pem"),
        }
    }

    /// A server configuration that sends its mail here, over STARTTLS.
    pub fn config(&self) -> ServerConfig {
        let mut config = ServerConfig::default();
        config.mail.smtp_host = "127.0.0.1".into();
        config.mail.smtp_port = self.port;
        config.mail.tls = MailTls::Starttls;
        config.mail.ca_file = self.ca_file.to_string_lossy().into_owned();
        config.mail.public_url = "https://studio.clinic.example".into();
        config
    }

    /// The messages received so far, as text, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// Waits for the `n`th message (bounded: a mail that never comes fails the test).
    pub async fn wait_for(&self, n: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages[n - 1].clone();
            }
            assert!(
                Instant::now() < deadline,
                "mail {n} never arrived; got {messages:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for MailCatcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A form body.
pub fn form(fields: &[(&str, &str)]) -> Payload {
    Payload::Raw(
        Some("application/x-www-form-urlencoded".into()),
        serde_urlencoded::to_string(fields).unwrap().into_bytes(),
    )
}

/// A form posted to a page.
pub async fn post_form(
    app: &crate::support::App,
    path: &str,
    auth: &Auth,
    fields: &[(&str, &str)],
) -> Answer {
    app.send(axum::http::Method::POST, path, auth, form(fields), &[])
        .await
}

/// An answer's body as text.
pub fn text(answer: &Answer) -> String {
    String::from_utf8_lossy(&answer.body).into_owned()
}

/// The same session as a browser's cookie.
pub fn cookie(auth: &Auth) -> Auth {
    match auth {
        Auth::Bearer(token) => Auth::Cookie {
            token: token.clone(),
            csrf: None,
        },
        other => other.clone(),
    }
}

/// The CSRF token of a session.
pub fn csrf(auth: &Auth) -> String {
    match auth {
        Auth::Bearer(token) | Auth::Cookie { token, .. } => follicle_web::extract::csrf_token(token),
        Auth::None => String::new(),
    }
}

/// Plans and works the queue until nothing is due (bounded).
pub async fn drain(store: &follicle_store::Store, config: &ServerConfig) -> usize {
    follicle_web::jobs::plan_all(store, config, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let worker = follicle_web::jobs::Worker::new(
        store.clone(),
        std::sync::Arc::new(config.clone()),
        "test-worker".into(),
    );
    let mut worked = 0;
    for _ in 0..50 {
        let n = worker.work_once().await.unwrap();
        if n == 0 {
            return worked;
        }
        worked += n;
    }
    panic!("the queue did not drain");
}

/// The mails sent to an address.
pub fn mails_to(smtp: &MailCatcher, address: &str) -> Vec<String> {
    smtp.messages()
        .into_iter()
        .filter(|m| m.lines().any(|l| l.starts_with("To:") && l.contains(address)))
        .collect()
}

/// A mail's body, unfolded from quoted-printable.
pub fn unfolded(mail: &str) -> String {
    mail.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
        .replace("=E2=80=93", "–")
}

/// A request from a client's browser to their portal, with the portal cookie.
pub async fn as_client(
    app: &crate::support::App,
    method: axum::http::Method,
    path: &str,
    cookie: &str,
    body: &[(&str, &str)],
) -> Answer {
    let header = format!("follicle_portal={cookie}");
    let payload = if body.is_empty() && method == axum::http::Method::GET {
        Payload::None
    } else {
        form(body)
    };
    app.send(
        method,
        path,
        &Auth::None,
        payload,
        &[("cookie", &header), ("user-agent", "PortalTest/1.0")],
    )
    .await
}

/// The PDF attached to a mail (base64 in a MIME part).
pub fn attached_pdf(mail: &str) -> Vec<u8> {
    let at = mail
        .find("Content-Type: application/pdf")
        .expect("a PDF attachment");
    let part = &mail[at..];
    let body_at = part
        .find("\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| part.find("\n\n").map(|i| i + 2))
        .unwrap();
    let encoded: String = part[body_at..]
        .lines()
        .take_while(|l| !l.starts_with("--") && !l.trim().is_empty())
        .collect();
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .expect("base64")
}
