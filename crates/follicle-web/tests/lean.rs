//! The lean server's caches: a pattern's answers are encoded once and sent from memory, equal
//! to a fresh encoding, and the pattern cache stays within its entries and bytes; a plan from a
//! measured design kept in memory equals a plan drawn afresh.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use follicle_pattern::PatternRequest;
use follicle_web::config::HttpConfig;
use follicle_web::state::PatternEncoding;
use follicle_web::{AppState, ServerConfig, binary};
use http_body_util::BodyExt;
use serde_json::json;

use crate::support::TestStore;

fn request(seed: u64) -> PatternRequest {
    serde_json::from_value(json!({"zones": {"kind": "stage", "stage": "norwood_1"}, "seed": seed})).unwrap()
}

fn state(store: &follicle_store::Store, entries: usize, bytes: usize) -> AppState {
    let config = ServerConfig {
        server: HttpConfig {
            pattern_cache_entries: entries,
            pattern_cache_bytes: bytes,
            ..HttpConfig::default()
        },
        ..ServerConfig::default()
    };
    AppState::new(store.clone(), config)
}

async fn body(response: Response) -> (String, Vec<u8>) {
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    (
        content_type,
        response.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pattern_answers_are_encoded_once_and_equal_a_fresh_encoding() {
    let test = TestStore::sqlite().await;
    let state = state(&test.store, 16, 64 << 20);
    let json_headers = HeaderMap::new();
    let mut binary_headers = HeaderMap::new();
    binary_headers.insert(header::ACCEPT, HeaderValue::from_static(binary::MEDIA_TYPE));

    let pattern = follicle_pattern::generate(&request(4)).unwrap();
    let first = body(state.pattern_response(request(4), &json_headers).await.unwrap()).await;
    assert_eq!(
        first,
        (
            "application/json".to_owned(),
            serde_json::to_vec(&pattern).unwrap()
        )
    );
    let again = body(state.pattern_response(request(4), &json_headers).await.unwrap()).await;
    assert_eq!(again, first);
    let bin = body(state.pattern_response(request(4), &binary_headers).await.unwrap()).await;
    assert_eq!(
        bin,
        (binary::MEDIA_TYPE.to_owned(), binary::encode(&pattern).unwrap())
    );

    // Both answers are kept beside the pattern, and counted in the cache's bytes.
    let entry = state.cached_pattern(request(4)).await.unwrap();
    assert!(Arc::ptr_eq(
        &entry,
        &state.cached_pattern(request(4)).await.unwrap()
    ));
    let json_len = entry.encoded(PatternEncoding::Json).unwrap().len();
    let bin_len = entry.encoded(PatternEncoding::Binary).unwrap().len();
    assert_eq!((json_len, bin_len), (first.1.len(), bin.1.len()));
    let (entries, bytes) = state.pattern_cache_size();
    assert_eq!(entries, 1);
    assert!(bytes > json_len + bin_len + pattern.dots.len() * std::mem::size_of::<follicle_pattern::Dot>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pattern_cache_stays_within_its_entries_and_bytes() {
    let test = TestStore::sqlite().await;
    // At most 2 entries.
    let state = state(&test.store, 2, 64 << 20);
    for seed in 1..=3 {
        state.cached_pattern(request(seed)).await.unwrap();
    }
    assert_eq!(state.pattern_cache_size().0, 2);

    // At most the bytes of about two and a half patterns: two fit; the JSON answer of the
    // newer one (about twice its pattern's size), once made, counts too and pushes the older
    // one out. The newest is kept even alone over the budget.
    let one = state_bytes_of_one(&test.store).await;
    let state = state_with_bytes(&test.store, one * 5 / 2);
    let a = state.cached_pattern(request(1)).await.unwrap();
    state.cached_pattern(request(2)).await.unwrap();
    assert_eq!(state.pattern_cache_size().0, 2);
    state
        .pattern_response(request(2), &HeaderMap::new())
        .await
        .unwrap();
    let (entries, bytes) = state.pattern_cache_size();
    assert_eq!(
        entries, 1,
        "the JSON answer pushed the older pattern out ({bytes} bytes)"
    );
    assert!(bytes > one * 5 / 2);
    assert!(!Arc::ptr_eq(&a, &state.cached_pattern(request(1)).await.unwrap()));
    assert_eq!(state.pattern_cache_size().0, 1);

    // Nothing kept when the cache is off.
    let off = state_with_bytes(&test.store, 0);
    off.cached_pattern(request(1)).await.unwrap();
    assert_eq!(off.pattern_cache_size(), (0, 0));
}

async fn state_bytes_of_one(store: &follicle_store::Store) -> usize {
    let s = state(store, 16, 64 << 20);
    s.cached_pattern(request(1)).await.unwrap();
    s.pattern_cache_size().1
}

fn state_with_bytes(store: &follicle_store::Store, bytes: usize) -> AppState {
    state(store, 16, bytes)
}

/// An example client file, planned on 2026-12-01.
fn client_input(name: &str) -> follicle_web::compute::ClientInput {
    follicle_web::compute::ClientInput {
        client_toml: std::fs::read_to_string(format!(
            "{}/../../examples/clients/{name}.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
        date: Some("2026-12-01".into()),
        start: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_pattern_settings_are_another_measurement() {
    let test = TestStore::sqlite().await;
    let config = ServerConfig {
        server: HttpConfig {
            measure_cache_entries: 8,
            ..HttpConfig::default()
        },
        ..ServerConfig::default()
    };
    let state = AppState::new(test.store.clone(), config);
    let norwood = client_input("norwood-3-hairline");
    let settings = follicle_core::Settings::default();
    // A clinic that changed one figure of its pattern settings (the request's key gives the
    // settings by their digest, kept per distinct settings).
    let wider = follicle_core::Settings::with_overrides("[pattern]\nunit_dot_spacing_mm = 0.4\n").unwrap();
    assert_ne!(wider.pattern, settings.pattern);
    for (round, (s, kept)) in [(&settings, 1), (&wider, 2), (&settings, 2), (&wider, 2)]
        .into_iter()
        .enumerate()
    {
        let planned = state.plan(&norwood, s, None).await.unwrap();
        assert_eq!(state.measure_cache_len(), kept, "round {round}");
        let fresh = norwood.plan(s).unwrap();
        assert_eq!(
            (planned.plan, planned.request),
            (fresh.plan, fresh.request),
            "round {round}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_from_a_kept_measurement_equals_one_drawn_afresh() {
    let test = TestStore::sqlite().await;
    let config = ServerConfig {
        server: HttpConfig {
            measure_cache_entries: 2,
            ..HttpConfig::default()
        },
        ..ServerConfig::default()
    };
    let state = AppState::new(test.store.clone(), config);
    let settings = follicle_core::Settings::default();
    let input = client_input;
    let norwood = input("norwood-3-hairline");
    // Drawn on this thread, nothing kept.
    let fresh = norwood.plan(&settings).unwrap();
    assert_eq!(state.measure_cache_len(), 0);
    let first = state.plan(&norwood, &settings, None).await.unwrap();
    assert_eq!(state.measure_cache_len(), 1);
    let kept = state.plan(&norwood, &settings, None).await.unwrap();
    assert_eq!(state.measure_cache_len(), 1, "the same design is not kept twice");
    assert_eq!(first.plan, fresh.plan);
    assert_eq!(kept.plan, fresh.plan);
    assert_eq!(kept.request, fresh.request);
    // The assessment measured on the same design.
    let (_, assessed) = norwood.assess(&settings).unwrap();
    assert_eq!(state.assess(&norwood, &settings, None).await.unwrap(), assessed);
    // Other client files and days: each plan as drawn afresh, and the cache keeps two.
    let later = follicle_web::compute::ClientInput {
        date: Some("2030-06-01".into()),
        ..input("norwood-3-hairline")
    };
    let other = input("norwood-5-uk");
    for i in [&later, &other, &norwood] {
        let planned = state.plan(i, &settings, None).await.unwrap();
        assert_eq!(planned.plan, i.plan(&settings).unwrap().plan);
    }
    assert_eq!(state.measure_cache_len(), 2);

    // A user whose heavy requests are all running still gets a plan from a kept measurement;
    // only a drawing is refused, 429.
    let user = uuid::Uuid::new_v4();
    let slots: Vec<_> = std::iter::from_fn(|| follicle_web::limits::user_slot(user)).collect();
    assert!(!slots.is_empty());
    let kept = state.plan(&norwood, &settings, Some(user)).await.unwrap();
    assert_eq!(kept.plan, fresh.plan);
    let new_file = input("ludwig-2-diffuse");
    let refused = state.plan(&new_file, &settings, Some(user)).await.unwrap_err();
    assert_eq!(
        refused.status,
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "{refused:?}"
    );
    drop(slots);
    state.plan(&new_file, &settings, Some(user)).await.unwrap();
}
