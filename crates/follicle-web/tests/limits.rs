//! Issue 11's limits seen from outside: the security headers on pages and answers, the client
//! address believed only from trusted proxies, and the device cookie that keeps the owner
//! of an account signing in while a stranger guesses it.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use follicle_web::ServerConfig;
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use crate::support::{App, Auth, Demo};

/// A sign-in from `peer` with these `X-Forwarded-For` values (and cookies); the status and
/// the `Set-Cookie` headers.
async fn sign_in(
    app: &App,
    peer: &str,
    forwarded: Option<&str>,
    cookie: Option<&str>,
    email: &str,
    password: &str,
) -> (StatusCode, Vec<String>) {
    let mut request = Request::post("/api/v1/auth/login").header(header::CONTENT_TYPE, "application/json");
    if let Some(f) = forwarded {
        request = request.header("x-forwarded-for", f);
    }
    if let Some(c) = cookie {
        request = request.header(header::COOKIE, c);
    }
    let mut request = request
        .body(Body::from(
            serde_json::to_vec(&json!({"email": email, "password": password})).unwrap(),
        ))
        .unwrap();
    let peer: SocketAddr = format!("{peer}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let _ = response.into_body().collect().await;
    (status, cookies)
}

/// Guesses at `n` unknown accounts, all at once; how many were refused as rate limited.
async fn guesses_limited(
    app: &App,
    peer: &str,
    forwarded: impl Fn(usize) -> Option<String>,
    n: usize,
) -> usize {
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..n {
        let (app, peer, forwarded) = (app.clone(), peer.to_owned(), forwarded(i));
        guesses.spawn(async move {
            let email = format!("stranger{i}@elsewhere.example");
            sign_in(
                &app,
                &peer,
                forwarded.as_deref(),
                None,
                &email,
                "not the password",
            )
            .await
            .0
        });
    }
    let mut limited = 0;
    while let Some(status) = guesses.join_next().await {
        match status.unwrap() {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("a guess answered {other}"),
        }
    }
    limited
}

pub async fn forwarded_for_is_believed_from_trusted_proxies_only(app: &App) {
    let free = follicle_store::SigninLimits::default().address.free_attempts as usize;
    // No trusted proxy: a client writing a new X-Forwarded-For each time is still one address.
    // (All at once: the attempts are counted before any password is checked.)
    let limited = guesses_limited(app, "192.0.2.50", |i| Some(format!("203.0.113.{i}")), free + 5).await;
    assert!(limited > 0);

    // Behind a trusted proxy, each client is its own address…
    let mut config = ServerConfig::default();
    config.server.trusted_proxies = vec!["10.0.0.0/8".into()];
    let proxied = App::with_config(&app.store, app.backend, config);
    let limited = guesses_limited(
        &proxied,
        "10.0.0.7",
        |i| Some(format!("198.51.100.{i}")),
        free + 5,
    )
    .await;
    assert_eq!(limited, 0);
    // …and what a client writes to the left of what the proxy appended is ignored.
    let limited = guesses_limited(
        &proxied,
        "10.0.0.7",
        |i| Some(format!("1.2.3.{i}, 203.0.113.77")),
        free + 5,
    )
    .await;
    assert!(limited > 0);
    // A stranger who is not the proxy cannot pose as one.
    let limited = guesses_limited(&proxied, "192.0.2.51", |i| Some(format!("10.1.1.{i}")), free + 5).await;
    assert!(limited > 0);
}

pub async fn the_owner_is_not_locked_out_by_a_stranger(app: &App) {
    Demo::seed(app).await;
    let owner = follicle_web::demo::DEMO_OWNER;
    let right = follicle_web::demo::DEMO_PASSWORD;
    // The owner signs in from their browser and gets a device cookie (HttpOnly, a year).
    let (status, cookies) = sign_in(app, "192.0.2.10", None, None, owner, right).await;
    assert_eq!(status, StatusCode::OK);
    let device = cookies
        .iter()
        .find(|c| c.starts_with("follicle_device="))
        .expect("a device cookie");
    assert!(
        device.contains("HttpOnly") && device.contains("Max-Age=31536000"),
        "{device}"
    );
    let device = device.split(';').next().unwrap().to_owned();

    // A stranger guesses from many addresses until the account is slowed down.
    let mut limited = false;
    for i in 0..20 {
        let (status, _) = sign_in(
            app,
            &format!("198.51.100.{i}"),
            None,
            None,
            owner,
            "a wrong guess",
        )
        .await;
        limited |= status == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(limited);
    let (status, _) = sign_in(app, "192.0.2.99", None, None, owner, right).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "a new browser waits");
    // The owner's browser gets in at once.
    let (status, cookies) = sign_in(app, "192.0.2.10", None, Some(&device), owner, right).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        cookies.iter().any(|c| c.starts_with(&device)),
        "the same device cookie"
    );
}

pub async fn pages_and_answers_carry_the_security_headers(app: &App) {
    let demo = Demo::seed(app).await;
    for (path, auth) in [
        ("/login", Auth::None),
        ("/api/v1/clients", demo.owner.clone()),
        ("/api/v1/me", demo.owner.clone()),
        ("/api/v1/health", Auth::None),
        ("/no/such/page", Auth::None),
    ] {
        let answer = app.get(path, &auth).await;
        let csp = answer.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store", "{path}");
        assert!(answer.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());
    }
    // A script or style sheet may be cached; it holds no health data.
    let asset = app.get("/static/studio.js", &Auth::None).await;
    assert_eq!(asset.headers[header::CACHE_CONTROL], "public, max-age=300");
    // The studio's pages have no inline scripts, handlers or style attributes to refuse.
    let cookie = Auth::Cookie {
        token: demo.owner_login["token"].as_str().unwrap().to_owned(),
        csrf: None,
    };
    let page = app.get("/", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&page.body);
    for banned in ["<script>", " onclick=", " onload=", " style=\""] {
        assert!(!html.contains(banned), "{banned} in the today page");
    }

    // Behind TLS, HSTS as configured.
    let mut config = ServerConfig::default();
    config.server.hsts_seconds = 31_536_000;
    let tls = App::with_config(&app.store, app.backend, config);
    let answer = tls.get("/api/v1/health", &Auth::None).await;
    assert_eq!(
        answer.headers[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000; includeSubDomains"
    );
}

pub async fn a_retried_post_with_an_idempotency_key_makes_one_record(app: &App) {
    use crate::support::Payload;
    use axum::http::Method;
    let demo = Demo::seed(app).await;
    let body = json!({"name": "Ida Retry", "date_of_birth": null, "age_years": null, "phone": "+44 7700 900555", "email": "", "notes": ""});
    let post = |key: &'static str, body: serde_json::Value| {
        let auth = demo.front_desk.clone();
        async move {
            app.send(
                Method::POST,
                "/api/v1/clients",
                &auth,
                Payload::Json(body),
                &[("idempotency-key", key)],
            )
            .await
        }
    };
    let first = post("retry-0001", body.clone()).await;
    let created = first.expect(StatusCode::CREATED);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let again = post("retry-0001", body.clone()).await;
    assert_eq!(again.expect(StatusCode::CREATED), created);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let found = app
        .get("/api/v1/clients?q=Ida%20Retry", &demo.front_desk)
        .await
        .expect(StatusCode::OK);
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    // The same key for another request is refused; a bad key names the header.
    post(
        "retry-0001",
        json!({"name": "Someone Else", "date_of_birth": null, "age_years": null, "phone": "+44 7700 900556", "email": "", "notes": ""}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "conflict");
    post("bad key with spaces", body.clone())
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    // A failed request does not keep its key.
    post("retry-0002", json!({"name": "Bad email", "date_of_birth": null, "age_years": null, "phone": "", "email": "not an email", "notes": ""}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    post(
        "retry-0002",
        json!({"name": "Now with phone", "date_of_birth": null, "age_years": null, "phone": "+44 7700 900557", "email": "", "notes": ""}),
    )
    .await
    .expect(StatusCode::CREATED);
}

/// A preview whose request is dropped (a closed connection, a timeout) stops drawing within
/// a band of rows and gives its heavy-work permit back, instead of drawing on for nobody.
/// (No database: the preview of a pattern made here.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_preview_stops_its_work() {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use follicle_pattern::{HairLoss, NorwoodStage, PatternRequest, ZonesSpec};
    use follicle_web::compute::{PreviewArgs, preview_png, typical_look};

    let pattern = Arc::new(
        follicle_pattern::generate(&PatternRequest {
            zones: ZonesSpec::Stage {
                stage: HairLoss::Norwood {
                    stage: NorwoodStage::VI,
                },
            },
            ..Default::default()
        })
        .unwrap(),
    );
    let look = typical_look(None, &follicle_core::Settings::default()).unwrap();
    let args = PreviewArgs {
        view: Some("front".into()),
        moment: None,
        size: Some(2048),
    };
    // How long a whole 2048-px preview takes on this machine now.
    let started = Instant::now();
    let png = preview_png(pattern.clone(), look, &args).await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let full = started.elapsed();

    // Dropped a quarter of the way through: the work, which holds the pattern and the
    // permit, ends well before a whole preview would have.
    for _ in 0..5 {
        let before = follicle_web::limits::renders_stopped();
        let request = tokio::spawn({
            let (pattern, args) = (pattern.clone(), args.clone());
            async move { preview_png(pattern, look, &args).await }
        });
        tokio::time::sleep(full / 4).await;
        request.abort();
        let dropped = Instant::now();
        while Arc::strong_count(&pattern) > 1 && dropped.elapsed() < 2 * full {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let ended = dropped.elapsed();
        assert_eq!(
            Arc::strong_count(&pattern),
            1,
            "the work still runs {ended:?} after its request was dropped"
        );
        if follicle_web::limits::renders_stopped() > before {
            assert!(
                ended < full / 2,
                "the work ended {ended:?} after its request was dropped (a whole preview: {full:?})"
            );
            return;
        }
        // It was still waiting for a permit (other tests' heavy work) when dropped, so it
        // never began: that proves nothing here; again.
    }
    panic!("the preview never began within a quarter of its time (a whole one: {full:?})");
}
