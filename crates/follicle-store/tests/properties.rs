//! Property tests: any text in a client's fields or a search query is stored and found, or
//! refused as `Invalid` — never another error, never damage to other rows — on both backends.

use follicle_store::{NewClient, Store, StoreError};
use proptest::prelude::*;
use time::OffsetDateTime;

use crate::support::{TestStore, clinic};

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 %_\\\\'\"@.+()-]{0,30}",
        "\\PC{0,12}",
        Just("'; DROP TABLE clients; --".to_owned()),
        Just("\0".to_owned()),
    ]
}

/// Opens a test store inside the runtime the property test drives.
fn open(runtime: &tokio::runtime::Runtime, postgres: bool) -> TestStore {
    runtime.block_on(async {
        if postgres {
            TestStore::postgres().await
        } else {
            TestStore::sqlite().await
        }
    })
}

#[test]
fn any_client_text_is_stored_or_invalid_sqlite() {
    run(false);
}

#[test]
fn any_client_text_is_stored_or_invalid_postgres() {
    run(true);
}

fn run(postgres: bool) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let test = open(&runtime, postgres);
    properties(&runtime, &test.store);
    logins(&runtime, &test.store);
    drop(test);
}

fn properties(runtime: &tokio::runtime::Runtime, store: &Store) {
    let c = runtime.block_on(clinic(store, "Properties"));
    let sentinel = NewClient {
        name: "Sentinel".into(),
        phone: "+1 555 0123".into(),
        ..NewClient::default()
    };
    let sentinel = runtime
        .block_on(store.create_client(&c.front_desk, &sentinel))
        .unwrap();
    let config = ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(name in any_text(), phone in any_text(), email in any_text(), notes in any_text(), query in any_text())| {
        runtime.block_on(async {
            let client = NewClient { name, phone, email, notes, date_of_birth: None, age_years: None };
            match store.create_client(&c.practitioner, &client).await {
                Ok(created) => {
                    assert_eq!(store.client(&c.practitioner, created.id).await.unwrap(), created);
                    assert_eq!(created.name, client.name.trim());
                    assert_eq!(created.notes, client.notes);
                    let found = store.search_clients(&c.front_desk, &created.name, 500).await.unwrap();
                    assert!(found.iter().any(|f| f.id == created.id), "{created:?} not found by name");
                }
                Err(StoreError::Invalid { .. }) => {}
                Err(other) => panic!("create {client:?}: {other}"),
            }
            match store.search_clients(&c.front_desk, &query, 500).await {
                Ok(_) | Err(StoreError::Invalid { .. }) => {}
                Err(other) => panic!("search {query:?}: {other}"),
            }
            assert_eq!(store.client(&c.front_desk, sentinel.id).await.unwrap(), sentinel);
        });
    });
}

/// Whatever a login form sends, the answer is a session, `Unauthenticated` or `RateLimited`.
fn logins(runtime: &tokio::runtime::Runtime, store: &Store) {
    let c = runtime.block_on(clinic(store, "Logins"));
    let config = ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(email in any_text(), password in any_text(), ip in any_text(), token in any_text())| {
        runtime.block_on(async {
            let now = OffsetDateTime::now_utc();
            match store.login(&email, &password, &ip, now).await {
                Ok(_) | Err(StoreError::Unauthenticated | StoreError::RateLimited { .. } | StoreError::Busy { .. }) => {}
                Err(other) => panic!("login {email:?} {ip:?}: {other}"),
            }
            match store.authenticate(&token, now).await {
                Err(StoreError::Unauthenticated) => {}
                other => panic!("authenticate {token:?}: {other:?}"),
            }
            store.revoke_session(&token).await.unwrap();
        });
    });
    // The real user still gets in.
    let session = runtime.block_on(store.login(
        &c.owner_email,
        crate::support::PASSWORD,
        "192.0.2.9",
        OffsetDateTime::now_utc(),
    ));
    assert!(session.is_ok());
}
