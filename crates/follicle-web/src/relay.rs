//! Handing a client's mail to the SMTP relay once (issue 14): the queue records a mail as sent
//! *before* the relay can accept it, and the relay gets it only if that record was written.
//!
//! SMTP has one moment of acceptance: the final `<CRLF>.<CRLF>` after the message's text. A
//! relay that loses the connection before it keeps nothing (RFC 5321 §4.1.1.4); once it has the
//! dot, it delivers. A worker that sends first and records afterwards sends twice when it dies
//! between the two (RFC 1047): the job is still "running", and the next worker sends it again.
//! Here the order is turned round, and the database decides:
//!
//! 1. `MAIL FROM`, `RCPT TO`, `DATA` and the whole text go to the relay; the final dot is held
//!    back by the connection itself (`Gated`: the next write after the text waits at a gate).
//! 2. The gate's commit runs (the queue's [`finish_job`](follicle_store::Store::finish_job):
//!    the job done and the message logged, only if this worker still holds the job's lease).
//! 3. Only when that commit succeeded is the dot written; then the relay's answer is read.
//!
//! A worker killed (SIGKILL) before the commit: the relay drops the unfinished message, the
//! job's lease runs out, another worker sends it, once. Killed after the dot: the job is
//! already done; nobody sends it again. What is left is the time between the database's
//! commit and one `write()` of five bytes (the commit's answer travelling back and the task
//! woken to write the dot: on the same machine, a fraction of a millisecond): a worker killed
//! exactly there leaves a mail logged as sent that the relay never completed. The other order
//! leaves, for the relay's whole answer time plus the commit, a mail sent twice. Measured by
//! `scripts/queue-out` (a debug build sending about 60 mails a second when it is killed): about
//! one SIGKILL in 20–30 lands in that window; the script says which mail it lost, and fails
//! any other loss.
//!
//! What the worker learns afterwards ([`HandOver`]): accepted; refused by the relay after the
//! dot (the job goes back to the queue, see `Store::reopen_job`); the dot never written (a
//! timeout or a broken connection at the gate: the job goes back too); or written with no
//! answer (the relay has it or not; the job stays done, the log says so).
//!
//! lettre speaks SMTP ([`AsyncSmtpConnection`]: commands, dot-stuffing, replies, STARTTLS,
//! AUTH); its pooled transport sends a message in one call, so the gate lives in the stream
//! under it. Implicit TLS (`mail.tls = "tls"`) is set up here with tokio-rustls below the gate
//! (lettre only wraps its own sockets); STARTTLS is lettre's, above it (the gate then holds the
//! dot's TLS record, which works the same).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::Address;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, oneshot};

use crate::config::{MailConfig, MailTls};

/// How long an idle connection is kept for the next mail (relays close idle connections after
/// a few minutes; a connection found closed before the gate is replaced, and the mail sent on
/// the new one).
const IDLE: Duration = Duration::from_secs(60);

/// Where a connection stands between a mail's text and its final dot.
#[derive(Debug, Default)]
enum Gate {
    /// Writes go through.
    #[default]
    Open,
    /// The text is out; the next write (the dot) waits for `go`. `at_gate` tells the sender
    /// that the connection is waiting.
    Armed {
        at_gate: Option<oneshot::Sender<()>>,
        go: oneshot::Receiver<bool>,
    },
    /// The gate let the dot through; `written` once any byte of it reached the socket.
    Passed { written: bool },
}

fn lock(gate: &Mutex<Gate>) -> std::sync::MutexGuard<'_, Gate> {
    gate.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A socket whose next write after arming waits at the gate (see the module's doc).
#[derive(Debug)]
struct Gated<S> {
    inner: S,
    gate: Arc<Mutex<Gate>>,
}

/// The peer's address of a socket under the gate (lettre asks for it).
trait Peer {
    fn peer(&self) -> io::Result<SocketAddr>;
}

impl Peer for TcpStream {
    fn peer(&self) -> io::Result<SocketAddr> {
        self.peer_addr()
    }
}

impl Peer for tokio_rustls::client::TlsStream<TcpStream> {
    fn peer(&self) -> io::Result<SocketAddr> {
        self.get_ref().0.peer_addr()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Gated<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Gated<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        {
            let mut gate = lock(&this.gate);
            if let Gate::Armed { at_gate, go } = &mut *gate {
                if let Some(waiting) = at_gate.take() {
                    let _ = waiting.send(());
                }
                match Pin::new(go).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(true)) => *gate = Gate::Passed { written: false },
                    Poll::Ready(_) => {
                        *gate = Gate::Open;
                        return Poll::Ready(Err(io::Error::other(
                            "the mail was held back at its final dot (not recorded as sent)",
                        )));
                    }
                }
            }
        }
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &written
            && *n > 0
            && let Gate::Passed { written } = &mut *lock(&this.gate)
        {
            *written = true;
        }
        written
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl<S> AsyncTokioStream for Gated<S>
where
    S: AsyncRead + AsyncWrite + Peer + Send + Sync + Unpin + std::fmt::Debug,
{
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer()
    }
}

/// The text of a mail, then the gate armed: lettre writes each item (dot-stuffed) and asks for
/// the next one before the final dot.
struct ThenArm<'a> {
    text: Option<&'a [u8]>,
    arm: Option<(Arc<Mutex<Gate>>, Gate)>,
}

impl<'a> Iterator for ThenArm<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if let Some(text) = self.text.take() {
            return Some(text);
        }
        if let Some((gate, armed)) = self.arm.take() {
            *lock(&gate) = armed;
        }
        None
    }
}

/// One connection to the relay and its gate.
struct Connection {
    smtp: AsyncSmtpConnection,
    gate: Arc<Mutex<Gate>>,
    idle_since: Instant,
}

/// What became of a mail handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandOver {
    /// The gate's commit said no (this worker no longer holds the job): the relay dropped the
    /// mail unfinished.
    NotOurs,
    /// The relay accepted it.
    Accepted,
    /// Recorded at the gate, then not delivered: the relay refused it after the dot, or the
    /// dot never reached the socket. The record must be taken back.
    Refused {
        /// What the relay said, or what happened.
        message: String,
        /// True when trying again cannot help.
        permanent: bool,
    },
    /// The dot was written and no answer came (a timeout, a broken connection): the relay may
    /// have it. The record stands.
    Unconfirmed(String),
}

/// Why a mail did not reach the gate (nothing was recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSent {
    /// What happened.
    pub message: String,
    /// True when trying again cannot help.
    pub permanent: bool,
}

fn not_sent(what: &str, e: &lettre::transport::smtp::Error) -> NotSent {
    NotSent {
        message: format!("SMTP {what}: {e}"),
        permanent: e.is_permanent(),
    }
}

/// Up to `connections` connections to the relay of `[mail]`, each with its gate.
pub struct Relay {
    config: MailConfig,
    tls: Option<TlsParameters>,
    wrapper: Option<tokio_rustls::TlsConnector>,
    idle: Mutex<Vec<Connection>>,
    slots: Semaphore,
    timeout: Duration,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// The relay of `config` (checked: a relay with no host, a TLS setting that cannot be
    /// built).
    pub fn new(config: &MailConfig, connections: u32) -> Result<Relay, String> {
        if config.smtp_host.is_empty() {
            return Err(
                "mail.smtp_host is not set in the server's configuration: no mail is sent".to_owned(),
            );
        }
        let roots = crate::mail::extra_roots(config)?;
        let (tls, wrapper) = match config.tls {
            MailTls::None => (None, None),
            MailTls::Starttls => {
                let mut parameters = TlsParameters::builder(config.smtp_host.clone());
                for certificate in roots {
                    parameters = parameters.add_root_certificate(certificate);
                }
                let parameters = parameters
                    .build_rustls()
                    .map_err(|e| format!("mail TLS settings: {e}"))?;
                (Some(parameters), None)
            }
            MailTls::Tls => (
                None,
                Some(crate::sms::tls_connector(&config.ca_file, "the SMTP relay")?),
            ),
        };
        Ok(Relay {
            config: config.clone(),
            tls,
            wrapper,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(usize::try_from(connections.max(1)).unwrap_or(1)),
            timeout: Duration::from_secs(config.timeout_seconds.max(1)),
        })
    }

    async fn bounded<T, E>(&self, what: &str, step: impl Future<Output = Result<T, E>>) -> Result<T, NotSent>
    where
        E: std::fmt::Display,
    {
        match tokio::time::timeout(self.timeout, step).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(NotSent {
                message: format!("SMTP {what}: {e}"),
                permanent: false,
            }),
            Err(_) => Err(not_sent_timeout(what, self.timeout)),
        }
    }

    /// A step of lettre's within the relay's timeout; a refusal for good stays one.
    async fn step<T>(
        &self,
        what: &str,
        step: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
    ) -> Result<T, NotSent> {
        match tokio::time::timeout(self.timeout, step).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(not_sent(what, &e)),
            Err(_) => Err(not_sent_timeout(what, self.timeout)),
        }
    }

    async fn connect(&self) -> Result<Connection, NotSent> {
        let (host, port) = (self.config.smtp_host.as_str(), self.config.smtp_port);
        let tcp = self.bounded("connect", TcpStream::connect((host, port))).await?;
        let _ = tcp.set_nodelay(true);
        let gate = Arc::new(Mutex::new(Gate::Open));
        let stream: Box<dyn AsyncTokioStream> = match &self.wrapper {
            Some(connector) => {
                let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| NotSent {
                    message: format!("mail.smtp_host {host:?} is not a name TLS can check: {e}"),
                    permanent: true,
                })?;
                let tls = self.bounded("TLS", connector.connect(name, tcp)).await?;
                Box::new(Gated {
                    inner: tls,
                    gate: gate.clone(),
                })
            }
            None => Box::new(Gated {
                inner: tcp,
                gate: gate.clone(),
            }),
        };
        let hello = ClientId::default();
        let mut smtp = self
            .bounded(
                "greeting",
                AsyncSmtpConnection::connect_with_transport(stream, &hello),
            )
            .await?;
        if let Some(parameters) = &self.tls {
            self.bounded("STARTTLS", smtp.starttls(parameters.clone(), &hello))
                .await?;
        }
        if !self.config.username.is_empty() {
            let credentials = Credentials::new(self.config.username.clone(), self.config.password.clone());
            self.step(
                "AUTH",
                smtp.auth(&[Mechanism::Plain, Mechanism::Login], &credentials),
            )
            .await?;
        }
        Ok(Connection {
            smtp,
            gate,
            idle_since: Instant::now(),
        })
    }

    /// A connection: an idle one not yet stale, or a new one.
    async fn checkout(&self) -> Result<(Connection, bool), NotSent> {
        loop {
            let pooled = lock_idle(&self.idle).pop();
            match pooled {
                Some(c) if c.idle_since.elapsed() < IDLE && !c.smtp.has_broken() => return Ok((c, true)),
                Some(_) => continue,
                None => return Ok((self.connect().await?, false)),
            }
        }
    }

    /// The envelope's commands up to the relay's go-ahead for the text.
    async fn envelope(&self, c: &mut Connection, envelope: &Envelope, text: &[u8]) -> Result<(), NotSent> {
        let mut options = Vec::new();
        let non_ascii = envelope
            .from()
            .is_some_and(|a| !AsRef::<str>::as_ref(a).is_ascii())
            || envelope
                .to()
                .iter()
                .any(|a: &Address| !AsRef::<str>::as_ref(a).is_ascii());
        if non_ascii {
            if !c.smtp.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(NotSent {
                    message: "the address is not plain ASCII and the relay does not take SMTPUTF8".to_owned(),
                    permanent: true,
                });
            }
            options.push(MailParameter::SmtpUtfEight);
        }
        if !text.is_ascii() {
            if !c.smtp.server_info().supports_feature(Extension::EightBitMime) {
                return Err(NotSent {
                    message: "the mail is not plain ASCII and the relay does not take 8BITMIME".to_owned(),
                    permanent: true,
                });
            }
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        self.command(c, "MAIL FROM", Mail::new(envelope.from().cloned(), options))
            .await?;
        for to in envelope.to() {
            self.command(c, "RCPT TO", Rcpt::new(to.clone(), Vec::new()))
                .await?;
        }
        self.command(c, "DATA", Data).await
    }

    async fn command(
        &self,
        c: &mut Connection,
        what: &str,
        command: impl std::fmt::Display,
    ) -> Result<(), NotSent> {
        self.step(what, c.smtp.command(command)).await.map(|_| ())
    }

    /// Hands `text` over to the relay for `envelope`, with `commit` at the gate: called once
    /// the relay has the whole text, it answers whether the dot may go (true: recorded as
    /// sent). `Err` when the mail never reached the gate (nothing was recorded).
    pub async fn hand_over<C, F>(
        &self,
        envelope: &Envelope,
        text: &[u8],
        commit: C,
    ) -> Result<HandOver, NotSent>
    where
        C: FnOnce() -> F,
        F: Future<Output = bool>,
    {
        let _slot = self.slots.acquire().await.map_err(|_| NotSent {
            message: "the mail relay is shutting down".to_owned(),
            permanent: false,
        })?;
        let (mut c, reused) = self.checkout().await?;
        if let Err(e) = self.envelope(&mut c, envelope, text).await {
            if !reused || e.permanent {
                c.smtp.abort().await;
                return Err(e);
            }
            // A pooled connection the relay had closed: once more on a new one.
            c = self.connect().await?;
            if let Err(e) = self.envelope(&mut c, envelope, text).await {
                c.smtp.abort().await;
                return Err(e);
            }
        }
        let (at_gate_tx, at_gate) = oneshot::channel();
        let (go, go_rx) = oneshot::channel();
        let armed = Gate::Armed {
            at_gate: Some(at_gate_tx),
            go: go_rx,
        };
        let gate = c.gate.clone();
        let timeout = self.timeout;
        let data = async {
            let parts = ThenArm {
                text: Some(text),
                arm: Some((gate.clone(), armed)),
            };
            tokio::time::timeout(timeout, c.smtp.message_iter(parts)).await
        };
        // The commit is never cut short (a commit dropped half-way may or may not land): it
        // runs to its end, whatever becomes of the connection meanwhile.
        let decide = async {
            if at_gate.await.is_err() {
                return None;
            }
            let recorded = commit().await;
            let _ = go.send(recorded);
            Some(recorded)
        };
        let (answer, recorded) = tokio::join!(data, decide);
        let passed = match &*lock(&c.gate) {
            Gate::Passed { written } => Some(*written),
            _ => None,
        };
        let outcome = match (recorded, answer) {
            (None, Ok(Err(e))) => Err(not_sent("text", &e)),
            (None, Ok(Ok(_))) => Err(NotSent {
                message: "SMTP: the relay answered before the end of the text".to_owned(),
                permanent: false,
            }),
            (None, Err(_)) => Err(not_sent_timeout("text", timeout)),
            (Some(false), _) => Ok(HandOver::NotOurs),
            (Some(true), Ok(Ok(_))) => Ok(HandOver::Accepted),
            (Some(true), answer) => Ok(match (passed, answer) {
                (Some(true), Ok(Err(e))) if e.is_permanent() || e.is_transient() => HandOver::Refused {
                    message: format!("SMTP, after the text: {e}"),
                    permanent: e.is_permanent(),
                },
                (Some(true), Ok(Err(e))) => HandOver::Unconfirmed(format!("SMTP, after the text: {e}")),
                (Some(true), _) => HandOver::Unconfirmed(format!(
                    "SMTP: no answer to the end of the text within {} s",
                    timeout.as_secs()
                )),
                (_, Ok(Err(e))) => HandOver::Refused {
                    message: format!("SMTP, at the end of the text: {e}"),
                    permanent: false,
                },
                (_, _) => HandOver::Refused {
                    message: format!(
                        "SMTP: the end of the text not sent within {} s",
                        timeout.as_secs()
                    ),
                    permanent: false,
                },
            }),
        };
        if matches!(outcome, Ok(HandOver::Accepted)) {
            *lock(&c.gate) = Gate::Open;
            c.idle_since = Instant::now();
            lock_idle(&self.idle).push(c);
        } else {
            // Mid-transaction or broken: closed (the relay drops whatever it had unfinished).
            drop(c);
        }
        outcome
    }
}

fn not_sent_timeout(what: &str, timeout: Duration) -> NotSent {
    NotSent {
        message: format!("SMTP {what}: no answer within {} s", timeout.as_secs()),
        permanent: false,
    }
}

fn lock_idle(idle: &Mutex<Vec<Connection>>) -> std::sync::MutexGuard<'_, Vec<Connection>> {
    idle.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    //! Against a scripted relay on a local socket: what it has read, byte for byte, when the
    //! gate's commit runs, and what it answers after the dot.

    use std::sync::atomic::{AtomicBool, Ordering};

    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    use super::*;

    /// What the relay read, and whether it saw a message's end.
    #[derive(Default)]
    struct Seen {
        text: Mutex<Vec<u8>>,
        dot: AtomicBool,
        closed_without_dot: AtomicBool,
    }

    /// A relay that takes every command and answers `after_dot` to a message's end (nothing
    /// at all when empty). Serves connections until the test ends.
    async fn fake_relay(after_dot: &'static str) -> (u16, Arc<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Seen::default());
        let shared = seen.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let seen = shared.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut read = BufReader::new(read);
                    write.write_all(b"220 relay.test ESMTP\r\n").await.unwrap();
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        let answer: &[u8] = match verb.as_str() {
                            "EHLO" => b"250-relay.test\r\n250 8BITMIME\r\n",
                            "QUIT" => b"221 bye\r\n",
                            "DATA" => b"354 go on\r\n",
                            _ => b"250 ok\r\n",
                        };
                        write.write_all(answer).await.unwrap();
                        if verb != "DATA" {
                            continue;
                        }
                        // The text, byte by byte as it comes, up to its final dot.
                        let mut byte = [0_u8; 1];
                        loop {
                            if read.read(&mut byte).await.unwrap_or(0) == 0 {
                                seen.closed_without_dot.store(true, Ordering::SeqCst);
                                return;
                            }
                            let mut text = seen.text.lock().unwrap();
                            text.push(byte[0]);
                            if text.ends_with(b"\r\n.\r\n") {
                                seen.dot.store(true, Ordering::SeqCst);
                                break;
                            }
                        }
                        if after_dot.is_empty() {
                            std::future::pending::<()>().await;
                        }
                        write.write_all(after_dot.as_bytes()).await.unwrap();
                    }
                });
            }
        });
        (port, seen)
    }

    fn config(port: u16) -> MailConfig {
        MailConfig {
            smtp_host: "127.0.0.1".into(),
            smtp_port: port,
            tls: MailTls::None,
            from: "Clinic <clinic@relay.test>".into(),
            timeout_seconds: 1,
            ..MailConfig::default()
        }
    }

    fn envelope() -> Envelope {
        Envelope::new(
            Some("clinic@relay.test".parse().unwrap()),
            vec!["sam@relay.test".parse().unwrap()],
        )
        .unwrap()
    }

    const TEXT: &[u8] = b"Subject: Day 4\r\n\r\nYour first wash is today.\r\n.A line that starts with a dot";

    /// Waits until the relay has read the whole text (dot-stuffed), at most 5 s.
    async fn text_arrived(seen: &Seen) -> bool {
        for _ in 0..500 {
            if seen
                .text
                .lock()
                .unwrap()
                .ends_with(b"..A line that starts with a dot")
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    #[tokio::test]
    async fn the_dot_goes_only_after_the_commit() {
        let (port, seen) = fake_relay("250 2.0.0 queued as 1\r\n").await;
        let relay = Relay::new(&config(port), 1).unwrap();
        let commit = || async {
            // The relay has the whole text and not its end while the commit runs.
            assert!(text_arrived(&seen).await, "the text before the commit");
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert!(!seen.dot.load(Ordering::SeqCst), "no dot before the commit");
            true
        };
        let handed = relay.hand_over(&envelope(), TEXT, commit).await.unwrap();
        assert_eq!(handed, HandOver::Accepted);
        assert!(seen.dot.load(Ordering::SeqCst));
        // The connection is kept and the next mail goes over it.
        assert_eq!(lock_idle(&relay.idle).len(), 1);
        let handed = relay
            .hand_over(&envelope(), TEXT, || std::future::ready(true))
            .await
            .unwrap();
        assert_eq!(handed, HandOver::Accepted);
        assert_eq!(lock_idle(&relay.idle).len(), 1);
    }

    #[tokio::test]
    async fn a_commit_that_says_no_leaves_the_relay_without_the_mail() {
        let (port, seen) = fake_relay("250 2.0.0 queued\r\n").await;
        let relay = Relay::new(&config(port), 1).unwrap();
        let handed = relay
            .hand_over(&envelope(), TEXT, || std::future::ready(false))
            .await
            .unwrap();
        assert_eq!(handed, HandOver::NotOurs);
        for _ in 0..500 {
            if seen.closed_without_dot.load(Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            seen.closed_without_dot.load(Ordering::SeqCst),
            "the connection closed mid-text"
        );
        assert!(!seen.dot.load(Ordering::SeqCst));
        assert!(
            lock_idle(&relay.idle).is_empty(),
            "a connection mid-text is not kept"
        );
    }

    #[tokio::test]
    async fn a_refusal_after_the_dot_is_a_refusal_and_silence_is_unconfirmed() {
        let (port, _) = fake_relay("554 5.7.1 message rejected as spam\r\n").await;
        let relay = Relay::new(&config(port), 1).unwrap();
        let handed = relay
            .hand_over(&envelope(), TEXT, || std::future::ready(true))
            .await
            .unwrap();
        match handed {
            HandOver::Refused { message, permanent } => {
                assert!(permanent);
                assert!(message.contains("rejected as spam"), "{message}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let (port, seen) = fake_relay("").await;
        let relay = Relay::new(&config(port), 1).unwrap();
        let handed = relay
            .hand_over(&envelope(), TEXT, || std::future::ready(true))
            .await
            .unwrap();
        assert!(seen.dot.load(Ordering::SeqCst));
        match handed {
            HandOver::Unconfirmed(why) => assert!(why.contains("no answer"), "{why}"),
            other => panic!("expected no answer, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_relay_that_is_not_there_is_an_error_before_the_gate() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let relay = Relay::new(&config(port), 1).unwrap();
        let mut called = false;
        let err = relay
            .hand_over(&envelope(), TEXT, || {
                called = true;
                std::future::ready(true)
            })
            .await
            .unwrap_err();
        assert!(!called, "nothing recorded");
        assert!(!err.permanent);
        assert!(err.message.contains("SMTP connect"), "{}", err.message);
    }
}
