//! The contract every backend keeps: one async function per topic, run on SQLite and on
//! PostgreSQL by the `contract!` macro in `tests.rs`.

use follicle_core::{ClientProfile, Settings, ZoneKind};
use follicle_store::*;
use serde_json::json;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::support::{PASSWORD, clinic};

/// Asserts that a result is the expected kind of error.
macro_rules! assert_err {
    ($result:expr, $pattern:pat) => {
        match $result {
            Err($pattern) => {}
            other => panic!("expected {}, got {:?}", stringify!($pattern), other.map(|_| ())),
        }
    };
}

pub(crate) fn new_sam() -> NewClient {
    NewClient {
        name: "Sam Ólafsson".into(),
        date_of_birth: Some(date!(1984 - 03 - 02)),
        age_years: None,
        phone: "+44 (0)7700 900123".into(),
        email: "Sam.Olafsson@Example.com".into(),
        notes: "prefers mornings\nallergic to latex".into(),
    }
}

const CLIENT_FILE: &str = r#"[client]
age = 41
sex = "male"
[skin]
fitzpatrick = "III"
[hair]
colour = "dark_brown"
[hair_loss]
scale = "norwood"
stage = "VI"
[goal]
aims = ["full_coverage"]
"#;

/// The plan `follicle_core` makes from a client file, as a stored record.
fn plan_record(stage: &str, settings: &Settings) -> PlanRecord {
    let today = date!(2026 - 11 - 21);
    let text = CLIENT_FILE.replace("\"VI\"", &format!("{stage:?}"));
    let profile = ClientProfile::from_toml(&text, settings, today).unwrap();
    let plan = follicle_pattern::plan_client(&profile, settings, today, today, 1)
        .unwrap()
        .plan;
    PlanRecord::from_core(
        &plan,
        record::Issue {
            on: today,
            valid_days: 30,
        },
    )
}

/// A consultation made by `follicle_core` from a client file.
pub(crate) fn consultation(client_id: Uuid, stage: &str) -> NewConsultation {
    NewConsultation {
        client_id,
        profile_toml: CLIENT_FILE.replace("\"VI\"", &format!("{stage:?}")),
        settings_toml: String::new(),
        plan: plan_record(stage, &Settings::default()),
        replanned_from: None,
    }
}

pub async fn clinic_with_owner_users_and_roles(store: &Store) {
    let c = clinic(store, "Northside SMP").await;
    assert_eq!(c.owner.role(), Role::Owner);
    assert_eq!(store.clinic(&c.front_desk).await.unwrap().name, "Northside SMP");

    // The first user must be an owner; emails are unique in a clinic, whatever their case (and
    // another clinic may use the same one: nothing tells one clinic about another's users).
    let user = |email: &str, role| NewUser {
        email: email.into(),
        name: "X".into(),
        role,
        password: PASSWORD.into(),
    };
    assert_err!(
        store
            .create_clinic_with_owner("Other", user("x@clinic.example", Role::Practitioner))
            .await,
        StoreError::Invalid { field: "role", .. }
    );
    assert_err!(
        store
            .add_user(&c.owner, user(&c.owner_email.to_uppercase(), Role::FrontDesk))
            .await,
        StoreError::Conflict { .. }
    );
    store
        .create_clinic_with_owner("Other", user(&c.owner_email.to_uppercase(), Role::Owner))
        .await
        .unwrap();
    assert_err!(
        store
            .create_clinic_with_owner(
                "Other",
                NewUser {
                    password: "short".into(),
                    ..user("y@c.example", Role::Owner)
                }
            )
            .await,
        StoreError::Invalid {
            field: "password",
            ..
        }
    );
    assert_err!(
        store
            .add_user(&c.owner, user("not-an-email", Role::FrontDesk))
            .await,
        StoreError::Invalid { field: "email", .. }
    );

    // Only owners manage users.
    for actor in [&c.practitioner, &c.front_desk] {
        assert_err!(
            store.add_user(actor, user("z@clinic.example", Role::Owner)).await,
            StoreError::Forbidden {
                action: Action::ManageUsers,
                ..
            }
        );
    }
    // The front desk does not see who works at the clinic (issue 11).
    assert_err!(
        store.list_users(&c.front_desk).await,
        StoreError::Forbidden {
            action: Action::ViewUsers,
            ..
        }
    );
    let users = store.list_users(&c.practitioner).await.unwrap();
    assert_eq!(users.len(), 3);
    assert!(users.iter().all(|u| u.clinic_id == c.owner.clinic_id()));

    // A clinic keeps one active owner.
    assert_err!(
        store
            .update_user(&c.owner, c.owner.user_id(), Role::Practitioner, true)
            .await,
        StoreError::Conflict { .. }
    );
    let promoted = store
        .update_user(&c.owner, c.practitioner.user_id(), Role::Owner, true)
        .await
        .unwrap();
    assert_eq!(promoted.role, Role::Owner);
    let demoted = store
        .update_user(&c.owner, c.owner.user_id(), Role::Practitioner, true)
        .await
        .unwrap();
    assert_eq!(demoted.role, Role::Practitioner);

    // The front desk sees clients, not clinical records; settings are the owner's.
    let client = store.create_client(&c.practitioner, &new_sam()).await.unwrap();
    assert_err!(
        store.consultations(&c.front_desk, client.id).await,
        StoreError::Forbidden {
            role: Role::FrontDesk,
            action: Action::ViewClinicalRecords
        }
    );
    assert_err!(
        store.update_clinic_settings(&c.front_desk, "", 8).await,
        StoreError::Forbidden {
            action: Action::EditSettings,
            ..
        }
    );
    let owner = store.actor(promoted.id).await.unwrap();
    assert_err!(
        store
            .update_clinic_settings(&owner, "[sessions]\nmax_hours = \"long\"\n", 8)
            .await,
        StoreError::Invalid {
            field: "settings",
            ..
        }
    );
    assert_err!(
        store.update_clinic_settings(&owner, "", 0).await,
        StoreError::Invalid {
            field: "retention_years",
            ..
        }
    );
    let clinic = store.update_clinic_settings(&owner, "", 2).await.unwrap();
    assert_eq!(clinic.retention_years, 2);
}

pub async fn login_sessions_lookup_expire_revoke(store: &Store) {
    let c = clinic(store, "Sessions").await;
    let now = OffsetDateTime::now_utc();
    let session = store
        .login(&c.owner_email.to_uppercase(), PASSWORD, "192.0.2.1", now)
        .await
        .unwrap();
    assert_eq!(session.token.as_str().len(), 64);
    assert_eq!(format!("{:?}", session.token), "SessionToken([redacted])");
    assert_eq!(session.actor, c.owner);
    assert_eq!(
        store.authenticate(session.token.as_str(), now).await.unwrap(),
        c.owner
    );

    // Expiry: valid until the end of its time, not after (with an idle timeout as long as
    // the session, so that only the expiry is tested here).
    let rules = store.account_rules(&c.owner).await.unwrap();
    store
        .update_account_rules(
            &c.owner,
            AccountRules {
                idle_timeout_minutes: 720,
                ..rules
            },
        )
        .await
        .unwrap();
    let ttl = StoreOptions::default().session_ttl;
    assert!(
        store
            .authenticate(session.token.as_str(), now + ttl - Duration::seconds(2))
            .await
            .is_ok()
    );
    assert_err!(
        store
            .authenticate(session.token.as_str(), now + ttl + Duration::seconds(1))
            .await,
        StoreError::Unauthenticated
    );

    // Wrong password, unknown user, garbage tokens.
    assert_err!(
        store
            .login(&c.owner_email, "wrong password!", "192.0.2.1", now)
            .await,
        StoreError::Unauthenticated
    );
    assert_err!(
        store
            .login("nobody@clinic.example", PASSWORD, "192.0.2.1", now)
            .await,
        StoreError::Unauthenticated
    );
    assert_err!(store.authenticate("", now).await, StoreError::Unauthenticated);
    assert_err!(
        store.authenticate(&"0".repeat(64), now).await,
        StoreError::Unauthenticated
    );

    // Revoking one session leaves another.
    let second = store
        .login(&c.owner_email, PASSWORD, "192.0.2.1", now)
        .await
        .unwrap();
    store.revoke_session(session.token.as_str()).await.unwrap();
    store.revoke_session(session.token.as_str()).await.unwrap();
    assert_err!(
        store.authenticate(session.token.as_str(), now).await,
        StoreError::Unauthenticated
    );
    assert!(store.authenticate(second.token.as_str(), now).await.is_ok());

    // Deactivating a user ends their sessions and their logins.
    let desk = store.open_session(c.front_desk, now).await.unwrap();
    assert_eq!(
        store.authenticate(desk.token.as_str(), now).await.unwrap(),
        c.front_desk
    );
    assert_err!(
        store
            .revoke_user_sessions(&c.practitioner, c.front_desk.user_id())
            .await,
        StoreError::Forbidden { .. }
    );
    store
        .update_user(&c.owner, c.front_desk.user_id(), Role::FrontDesk, false)
        .await
        .unwrap();
    assert_err!(
        store.authenticate(desk.token.as_str(), now).await,
        StoreError::Unauthenticated
    );
    assert_err!(
        store.actor(c.front_desk.user_id()).await,
        StoreError::NotFound { .. }
    );

    // Sign out everywhere.
    assert_eq!(
        store
            .revoke_user_sessions(&c.owner, c.owner.user_id())
            .await
            .unwrap(),
        1
    );
    assert_err!(
        store.authenticate(second.token.as_str(), now).await,
        StoreError::Unauthenticated
    );
    assert!(store.purge_expired(now).await.unwrap() >= 3);
}

/// Sign-in throttling (issue 11): the number of passwords actually checked is bounded per
/// account across addresses, per address across accounts and under concurrency, and the
/// owner's own browser is not slowed down by a stranger. Prints the figures (`--nocapture`).
pub async fn signin_throttling_bounds_guesses(store: &Store) {
    let c = clinic(store, "Throttle").await;
    let limits = SigninLimits::default();
    let checks = || store.signin_password_checks();
    let alerts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    store.on_signin_throttled({
        let alerts = alerts.clone();
        move |a: SigninAlert| alerts.lock().unwrap().push(a)
    });

    // The owner signs in from their browser, which is given a device cookie.
    let t0 = datetime!(2026-11-21 09:00:00 UTC);
    let session = store
        .login_from(&c.owner_email, PASSWORD, "192.0.2.1", None, t0)
        .await
        .unwrap();
    let device = store.remember_device(&session.actor, None).await.unwrap();
    assert_eq!(
        store
            .remember_device(&session.actor, Some(&device))
            .await
            .unwrap(),
        device,
        "a known device keeps its cookie"
    );

    // 1 address × 60 accounts at one instant: the address's free attempts are checked.
    let t1 = t0 + Duration::minutes(1);
    let before = checks();
    for n in 0..60 {
        let outcome = store
            .login_from(
                &format!("guess{n}@clinic.example"),
                "wrong password!",
                "203.0.113.1",
                None,
                t1,
            )
            .await;
        assert_err!(
            outcome,
            StoreError::Unauthenticated | StoreError::RateLimited { .. }
        );
    }
    let one_address = checks() - before;
    assert_eq!(one_address, limits.address.free_attempts as u64);

    // 20 addresses × 1 account at one instant: the account's free attempts are checked.
    let t2 = t0 + Duration::minutes(2);
    let before = checks();
    for n in 0..60 {
        let outcome = store
            .login_from(
                &c.owner_email,
                "wrong password!",
                &format!("198.51.100.{}", n % 20),
                None,
                t2,
            )
            .await;
        assert_err!(
            outcome,
            StoreError::Unauthenticated | StoreError::RateLimited { .. }
        );
    }
    let twenty_addresses = checks() - before;
    assert_eq!(twenty_addresses, limits.account.free_attempts as u64);
    assert_eq!(alerts.lock().unwrap().len(), 1, "the owner is told once");

    // The owner, from their browser, is not slowed down: right away, even with the right
    // password and even from one of the attacker's addresses.
    assert!(
        store
            .login_from(&c.owner_email, PASSWORD, "198.51.100.3", Some(&device), t2)
            .await
            .is_ok()
    );
    // The same device keeps its own limit: a stolen cookie is no skeleton key.
    for _ in 0..limits.device.free_attempts {
        let _ = store
            .login_from(
                &c.owner_email,
                "wrong password!",
                "198.51.100.3",
                Some(&device),
                t2,
            )
            .await;
    }
    assert_err!(
        store
            .login_from(&c.owner_email, PASSWORD, "198.51.100.3", Some(&device), t2)
            .await,
        StoreError::RateLimited { .. }
    );
    // Without the device, the account waits its delay; then the right password gets in,
    // and starts the account over.
    let victim = clinic(store, "Throttle victim").await;
    let t3 = t0 + Duration::minutes(3);
    for n in 0..10 {
        let _ = store
            .login_from(
                &victim.owner_email,
                "wrong password!",
                &format!("192.0.2.{}", 100 + n),
                None,
                t3,
            )
            .await;
    }
    match store
        .login_from(&victim.owner_email, PASSWORD, "192.0.2.200", None, t3)
        .await
    {
        Err(StoreError::RateLimited { retry_after_seconds }) => {
            assert!(retry_after_seconds <= limits.account.max_delay_ms / 1000);
            let later = t3 + Duration::seconds(retry_after_seconds);
            assert!(
                store
                    .login_from(&victim.owner_email, PASSWORD, "192.0.2.200", None, later)
                    .await
                    .is_ok()
            );
        }
        other => panic!("expected a delay, got {:?}", other.map(|_| ())),
    }

    // 100 concurrent guesses at one account from 100 addresses: the free attempts at most.
    let target = clinic(store, "Throttle concurrent").await;
    let t4 = t0 + Duration::minutes(4);
    let before = checks();
    let mut guesses = tokio::task::JoinSet::new();
    for n in 0..100 {
        let (store, email) = (store.clone(), target.owner_email.clone());
        guesses.spawn(async move {
            store
                .login_from(
                    &email,
                    "wrong password!",
                    &format!("10.9.{}.{}", n / 200, n % 200),
                    None,
                    t4,
                )
                .await
                .map(|_| ())
        });
    }
    while let Some(outcome) = guesses.join_next().await {
        assert_err!(
            outcome.unwrap(),
            StoreError::Unauthenticated | StoreError::RateLimited { .. } | StoreError::Busy { .. }
        );
    }
    let concurrent = checks() - before;
    assert!(
        concurrent <= limits.account.free_attempts as u64,
        "{concurrent} checked"
    );

    // A whole window of guessing, one attempt a second from 1 and from 20 addresses: the
    // account's schedule (5 free, then 1, 2, 4 … 256 s apart, then every 300 s: 15 in 900 s)
    // bounds what is checked; an address's own delays may refuse a few more.
    let mut per_window = Vec::new();
    for (k, addresses) in [1, 20].into_iter().enumerate() {
        let slow = clinic(store, "Throttle window").await;
        let start = t0 + Duration::hours(1 + k as i64);
        let before = checks();
        for s in 0..900 {
            let _ = store
                .login_from(
                    &slow.owner_email,
                    "wrong password!",
                    &format!("172.16.{k}.{}", s % addresses),
                    None,
                    start + Duration::seconds(s),
                )
                .await;
        }
        let checked = checks() - before;
        assert!(
            (10..=15).contains(&checked),
            "{checked} checked from {addresses} addresses"
        );
        per_window.push(checked);
    }
    let t5 = t0 + Duration::hours(3);

    println!("| scenario | passwords checked |");
    println!("|---|---|");
    println!("| 1 address × 60 accounts, one instant | {one_address} |");
    println!("| 20 addresses × 1 account, one instant | {twenty_addresses} |");
    println!("| 100 concurrent guesses × 1 account | {concurrent} |");
    println!(
        "| 1 account, one guess a second from 1 address, 15 minutes | {} |",
        per_window[0]
    );
    println!(
        "| 1 account, one guess a second from 20 addresses, 15 minutes | {} |",
        per_window[1]
    );

    // Any text counts as an address or email, and never fails.
    assert_err!(
        store
            .login_from("\0odd\u{1F600}", "x", &"x".repeat(5000), Some("\0"), t5)
            .await,
        StoreError::Unauthenticated | StoreError::RateLimited { .. }
    );
    assert!(store.purge_expired(t5 + Duration::days(1)).await.unwrap() > 0);
}

pub async fn clients_crud_and_search(store: &Store) {
    let c = clinic(store, "Clients").await;
    let sam = store.create_client(&c.practitioner, &new_sam()).await.unwrap();
    assert_eq!(sam.email, "sam.olafsson@example.com");
    assert_eq!(store.client(&c.practitioner, sam.id).await.unwrap(), sam);
    // The front desk sees the contact details, not the notes (issue 11).
    let at_the_desk = store.client(&c.front_desk, sam.id).await.unwrap();
    assert_eq!(
        (at_the_desk.notes.as_str(), at_the_desk.phone.as_str()),
        ("", sam.phone.as_str())
    );
    let kim = store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: "Kim 100% Park_".into(),
                age_years: Some(52),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();

    let search = |q: &'static str| {
        let actor = c.front_desk;
        async move {
            let found = store.search_clients(&actor, q, 50).await.unwrap();
            found.into_iter().map(|c| c.name).collect::<Vec<_>>()
        }
    };
    assert_eq!(search("").await, ["Kim 100% Park_", "Sam Ólafsson"]);
    assert_eq!(search("ÓLAF").await, ["Sam Ólafsson"]);
    assert_eq!(search("olafsson@EXAMPLE").await, ["Sam Ólafsson"]);
    assert_eq!(search("7700 900").await, ["Sam Ólafsson"]);
    assert_eq!(search("7700900123").await, ["Sam Ólafsson"]);
    // LIKE's wildcards are plain characters here.
    assert_eq!(search("100%").await, ["Kim 100% Park_"]);
    assert_eq!(search("%").await, ["Kim 100% Park_"]);
    assert_eq!(search("_").await, ["Kim 100% Park_"]);
    assert!(search("nobody").await.is_empty());
    assert_err!(
        store.search_clients(&c.front_desk, "a\nb", 10).await,
        StoreError::Invalid { field: "query", .. }
    );
    assert_err!(
        store.search_clients(&c.front_desk, "a", 0).await,
        StoreError::Invalid { field: "limit", .. }
    );

    // Update replaces the details; bad input names its field.
    let changed = NewClient {
        phone: "020 7946 0000".into(),
        ..new_sam()
    };
    let updated = store
        .update_client(&c.front_desk, sam.id, &changed)
        .await
        .unwrap();
    assert_eq!(updated.phone, "020 7946 0000");
    assert_eq!(updated.created_at, sam.created_at);
    assert!(search("7700").await.is_empty());
    for (bad, field) in [
        (
            NewClient {
                name: " ".into(),
                ..new_sam()
            },
            "name",
        ),
        (
            NewClient {
                email: "sam@".into(),
                ..new_sam()
            },
            "email",
        ),
        (
            NewClient {
                age_years: Some(131),
                ..new_sam()
            },
            "age_years",
        ),
        (
            NewClient {
                date_of_birth: Some(date!(1850 - 01 - 01)),
                ..new_sam()
            },
            "date_of_birth",
        ),
        (
            NewClient {
                notes: "a\0b".into(),
                ..new_sam()
            },
            "notes",
        ),
        (
            NewClient {
                phone: "1\t2".into(),
                ..new_sam()
            },
            "phone",
        ),
    ] {
        match store.update_client(&c.front_desk, sam.id, &bad).await {
            Err(StoreError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: expected Invalid, got {other:?}"),
        }
    }
    // The owner sees the notes the front desk's edit kept.
    let seen = store.client(&c.owner, sam.id).await.unwrap();
    assert_eq!(seen.notes, sam.notes);
    assert_eq!(
        Client {
            notes: String::new(),
            ..seen
        },
        updated
    );

    // Delete: only owners, only without records.
    assert_err!(
        store.delete_client(&c.front_desk, kim.id).await,
        StoreError::Forbidden { .. }
    );
    store.delete_client(&c.owner, kim.id).await.unwrap();
    assert_err!(
        store.client(&c.owner, kim.id).await,
        StoreError::NotFound { what: "client" }
    );
    store
        .add_consultation(&c.practitioner, &consultation(sam.id, "V"), None)
        .await
        .unwrap();
    assert_err!(
        store.delete_client(&c.owner, sam.id).await,
        StoreError::Conflict { .. }
    );
    assert!(store.client(&c.owner, sam.id).await.is_ok());
    assert_err!(
        store.update_client(&c.owner, Uuid::new_v4(), &new_sam()).await,
        StoreError::NotFound { .. }
    );
}

pub async fn consultations_are_versioned(store: &Store) {
    let c = clinic(store, "Consultations").await;
    let client = store.create_client(&c.practitioner, &new_sam()).await.unwrap();
    let (first, none) = store
        .add_consultation(&c.practitioner, &consultation(client.id, "V"), None)
        .await
        .unwrap();
    assert!(none.is_none());
    let second = store
        .add_consultation(&c.owner, &consultation(client.id, "VII"), None)
        .await
        .unwrap()
        .0;
    assert_eq!((first.version, second.version), (1, 2));
    assert_eq!(second.created_by, c.owner.user_id());
    assert_eq!(first.schema_version, PLAN_SCHEMA_VERSION);

    let all = store.consultations(&c.practitioner, client.id).await.unwrap();
    assert_eq!(all, vec![first.clone(), second.clone()]);
    // Version 1 is as it was: its own plan, its own client file, read back typed.
    assert_eq!(
        all[0].profile_toml.as_deref().map(|t| t.contains("\"V\"")),
        Some(true)
    );
    assert_eq!(all[0].plan, consultation(client.id, "V").plan);
    assert_ne!(all[0].plan, all[1].plan);
    assert!(!all[1].plan.sessions.is_empty());
    assert_eq!(all[0].settings_toml.as_deref(), Some(""));
    assert_eq!(store.consultation(&c.owner, first.id).await.unwrap(), first);

    // Writers at the same time each get their own version and quote number; none is lost.
    let writes = (0..4).map(|_| {
        let (store, actor, new) = (store.clone(), c.practitioner, consultation(client.id, "VI"));
        tokio::spawn(async move {
            store
                .add_consultation(&actor, &new, None)
                .await
                .map(|(c, _)| (c.version, c.quote_number))
        })
    });
    let mut versions = Vec::new();
    let mut numbers = vec![first.quote_number, second.quote_number];
    for write in writes.collect::<Vec<_>>() {
        let (version, number) = write.await.unwrap().unwrap();
        versions.push(version);
        numbers.push(number);
    }
    versions.sort_unstable();
    assert_eq!(versions, [3, 4, 5, 6]);
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (1..=6).map(Some).collect::<Vec<_>>(),
        "quote numbers are unique and gapless"
    );
    assert_eq!(
        store.consultations(&c.owner, client.id).await.unwrap()[..2],
        [first.clone(), second.clone()]
    );

    // Another client's versions start at 1; the clinic's quote numbers go on.
    let other = store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: "Kim".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    let theirs = store
        .add_consultation(&c.practitioner, &consultation(other.id, "IV"), None)
        .await
        .unwrap()
        .0;
    assert_eq!((theirs.version, theirs.quote_number), (1, Some(7)));
    // Another clinic numbers its own quotes from 1.
    let d = clinic(store, "Elsewhere").await;
    let elsewhere = store.create_client(&d.front_desk, &new_sam()).await.unwrap();
    let theirs = store
        .add_consultation(&d.practitioner, &consultation(elsewhere.id, "IV"), None)
        .await
        .unwrap()
        .0;
    assert_eq!(theirs.quote_number, Some(1));

    // Clinical records are not the front desk's; NUL in a record is refused for both backends.
    assert_err!(
        store
            .add_consultation(&c.front_desk, &consultation(client.id, "V"), None)
            .await,
        StoreError::Forbidden { .. }
    );
    let mut bad = consultation(client.id, "V");
    bad.plan.notes.push("a\u{0}b".into());
    assert_err!(
        store.add_consultation(&c.practitioner, &bad, None).await,
        StoreError::Invalid { field: "plan", .. }
    );
    assert_err!(
        store
            .add_consultation(&c.practitioner, &consultation(Uuid::new_v4(), "V"), None)
            .await,
        StoreError::NotFound { what: "client" }
    );
    // A re-plan names a consultation of the same client.
    let replan = NewConsultation {
        replanned_from: Some(theirs.id),
        ..consultation(client.id, "V")
    };
    assert_err!(
        store.add_consultation(&c.practitioner, &replan, None).await,
        StoreError::NotFound { what: "consultation" }
    );
    assert_eq!(store.consultations(&c.owner, client.id).await.unwrap().len(), 6);
}

/// A consultation and the design drawn from it are kept together, in one transaction; a
/// design that cannot be kept keeps nothing.
pub async fn consultation_and_design_are_one_write(store: &Store) {
    let c = clinic(store, "One write").await;
    let client = store.create_client(&c.practitioner, &new_sam()).await.unwrap();
    let new = consultation(client.id, "V");
    let design = NewDesign {
        plan: Some(new.plan.clone()),
        ..new_design(client.id, None, 4)
    };
    let (saved, drawn) = store
        .add_consultation(&c.practitioner, &new, Some(&design))
        .await
        .unwrap();
    let drawn = drawn.unwrap();
    assert_eq!(drawn.consultation_id, Some(saved.id));
    assert_eq!(drawn.plan.as_ref(), Some(&saved.plan));
    assert_eq!(
        (saved.quote_number, drawn.quote_number),
        (Some(1), Some(2)),
        "consultations and designs share the clinic's quote numbers"
    );
    assert_eq!(store.designs(&c.owner, client.id).await.unwrap(), vec![drawn]);

    // A design with a NUL byte cannot be stored: neither is the consultation.
    let bad = NewDesign {
        notes: "fine".into(),
        hairline: json!({ "style": "a\u{0}b" }),
        ..design.clone()
    };
    assert_err!(
        store.add_consultation(&c.practitioner, &new, Some(&bad)).await,
        StoreError::Invalid {
            field: "hairline",
            ..
        }
    );
    // A design of another client is refused before anything is written.
    let other = NewDesign {
        client_id: Uuid::new_v4(),
        ..design
    };
    assert_err!(
        store.add_consultation(&c.practitioner, &new, Some(&other)).await,
        StoreError::Invalid {
            field: "design.client_id",
            ..
        }
    );
    assert_eq!(store.consultations(&c.owner, client.id).await.unwrap().len(), 1);
    assert_eq!(store.designs(&c.owner, client.id).await.unwrap().len(), 1);
}

/// A row written before records were versioned (schema version 0: core's plan as untyped
/// JSON, here a frozen copy of `follicle plan --format json` for examples/clients/norwood-3)
/// still loads after the upgrade; a row of an unknown schema version is refused naming the
/// field, the value and the versions this build reads.
pub async fn old_records_still_load(store: &Store) {
    let c = clinic(store, "Old rows").await;
    let client = store.create_client(&c.practitioner, &new_sam()).await.unwrap();
    let plan: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/consultation_v0_plan.json")).unwrap();
    let client_file = include_str!("fixtures/consultation_v0_client.toml");
    let id = testing::insert_old_consultation(store, &c.practitioner, client.id, client_file, &plan, 0).await;

    let old = store.consultation(&c.practitioner, id).await.unwrap();
    assert_eq!(old.schema_version, 0);
    assert_eq!(old.profile_toml.as_deref(), Some(client_file));
    assert_eq!((old.settings_toml.as_deref(), old.quote_number), (None, None));
    let p = &old.plan;
    assert_eq!(p.assessed_on, date!(2026 - 11 - 21));
    assert_eq!(p.verdict, "proceed");
    assert_eq!(p.approach, ["density"]);
    let dates: Vec<String> = p
        .sessions
        .iter()
        .filter_map(|s| s.date.map(|d| d.to_string()))
        .collect();
    assert_eq!(dates, ["2026-12-01", "2026-12-15", "2026-12-29"]);
    let quote = p.quote.as_ref().unwrap();
    assert_eq!((quote.currency.as_str(), quote.total), ("USD", 1650));
    assert_eq!(
        quote.lines.iter().map(|l| l.amount).sum::<i64>(),
        quote.total,
        "the lines read back add up"
    );
    assert_eq!(p.sessions.len(), plan["sessions"].as_array().unwrap().len());
    assert_eq!(
        p.aftercare.len(),
        plan["aftercare"]["items"].as_array().unwrap().len()
    );
    // It lists with the new ones, and a new version follows it.
    let new = store
        .add_consultation(&c.practitioner, &consultation(client.id, "V"), None)
        .await
        .unwrap()
        .0;
    assert_eq!(new.version, 2);
    let all = store.consultations(&c.owner, client.id).await.unwrap();
    assert_eq!(all, vec![old.clone(), new]);

    // A row of a schema version this build does not know.
    let future =
        testing::insert_old_consultation(store, &c.practitioner, client.id, client_file, &plan, 7).await;
    match store.consultation(&c.practitioner, future).await {
        Err(StoreError::Invalid {
            field: "schema_version",
            message,
        }) => {
            assert!(message.contains('7'), "{message}");
            assert!(message.contains("0 and 1"), "{message}");
        }
        other => panic!("expected schema_version to be refused, got {other:?}"),
    }
    assert_err!(
        store.consultations(&c.owner, client.id).await,
        StoreError::Invalid {
            field: "schema_version",
            ..
        }
    );
    // Nothing saved changed: the old row still reads as it did.
    assert_eq!(store.consultation(&c.practitioner, id).await.unwrap(), old);
}

pub(crate) fn new_design(client_id: Uuid, consultation_id: Option<Uuid>, seed: u64) -> NewDesign {
    NewDesign {
        client_id,
        consultation_id,
        hairline: json!({ "points_mm": [[-40.0, 60.0], [0.0, 68.0], [40.0, 60.0]], "style": "soft" }),
        zones: json!(["hairline", "frontal", "crown"]),
        seed,
        settings: json!({ "density_per_cm2": 42.0 }),
        notes: "softened temples".into(),
        plan: None,
    }
}

pub async fn designs_are_versioned(store: &Store) {
    let c = clinic(store, "Designs").await;
    let client = store.create_client(&c.practitioner, &new_sam()).await.unwrap();
    let consult = store
        .add_consultation(&c.practitioner, &consultation(client.id, "V"), None)
        .await
        .unwrap()
        .0;
    let first = store
        .add_design(&c.practitioner, &new_design(client.id, Some(consult.id), 7))
        .await
        .unwrap();
    // The full range of seeds survives the database's signed integers.
    let second = store
        .add_design(&c.practitioner, &new_design(client.id, None, u64::MAX))
        .await
        .unwrap();
    assert_eq!((first.version, second.version), (1, 2));
    let all = store.designs(&c.owner, client.id).await.unwrap();
    assert_eq!(all, vec![first.clone(), second]);
    assert_eq!(all[1].seed, u64::MAX);
    assert_eq!(store.design(&c.practitioner, first.id).await.unwrap(), first);

    // A consultation of another client is not this design's.
    let other = store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: "Kim".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    assert_err!(
        store
            .add_design(&c.practitioner, &new_design(other.id, Some(consult.id), 1))
            .await,
        StoreError::NotFound { what: "consultation" }
    );
}

pub async fn appointments_book_and_change(store: &Store) {
    let c = clinic(store, "Diary").await;
    let client = store.create_client(&c.practitioner, &new_sam()).await.unwrap();
    let at = datetime!(2026-12-01 10:00:00.123 +01:00);
    let booked = store
        .book_appointment(
            &c.front_desk,
            &NewAppointment {
                client_id: client.id,
                practitioner_id: Some(c.practitioner.user_id()),
                starts_at: at,
                duration_minutes: 180,
                notes: "first session".into(),
            },
        )
        .await
        .unwrap();
    // Stored in UTC to the second.
    assert_eq!(booked.starts_at, datetime!(2026-12-01 09:00:00 UTC));
    assert_eq!(booked.status, AppointmentStatus::Booked);
    let confirmed = store
        .set_appointment_status(&c.front_desk, booked.id, AppointmentStatus::Confirmed)
        .await
        .unwrap();
    assert_eq!(confirmed.status, AppointmentStatus::Confirmed);
    let day = store
        .appointments_between(
            &c.front_desk,
            datetime!(2026-12-01 00:00 UTC),
            datetime!(2026-12-02 00:00 UTC),
        )
        .await
        .unwrap();
    assert_eq!(day, vec![confirmed.clone()]);
    assert!(
        store
            .appointments_between(
                &c.front_desk,
                datetime!(2026-12-01 09:00:01 UTC),
                datetime!(2026-12-02 00:00 UTC)
            )
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.client_appointments(&c.owner, client.id).await.unwrap(),
        vec![confirmed]
    );
    assert_err!(
        store
            .book_appointment(
                &c.front_desk,
                &NewAppointment {
                    client_id: client.id,
                    practitioner_id: None,
                    starts_at: at,
                    duration_minutes: 0,
                    notes: String::new()
                },
            )
            .await,
        StoreError::Invalid {
            field: "duration_minutes",
            ..
        }
    );
    assert!(
        AppointmentStatus::parse("done")
            .unwrap_err()
            .to_string()
            .contains("booked, confirmed, arrived, completed, cancelled, no_show")
    );
}

pub(crate) struct Pigments {
    pub(crate) fresh: PigmentBatch,
    pub(crate) expiring: PigmentBatch,
}

pub(crate) async fn pigments(store: &Store, actor: &Actor) -> Pigments {
    let product = store
        .add_pigment_product(
            actor,
            &NewPigmentProduct {
                name: "Scalp Black 2".into(),
                maker: "Inkworks".into(),
                ingredients: "CI 77266, aqua, glycerin".into(),
            },
        )
        .await
        .unwrap();
    let batch = |lot: &str, expires_on| NewPigmentBatch {
        product_id: product.id,
        lot: lot.into(),
        expires_on,
        quantity: 3,
    };
    let fresh = store
        .add_pigment_batch(actor, &batch("SB2-2611", date!(2028 - 06 - 30)))
        .await
        .unwrap();
    let expiring = store
        .add_pigment_batch(actor, &batch("SB2-2501", date!(2026 - 12 - 02)))
        .await
        .unwrap();
    assert_err!(
        store
            .add_pigment_batch(actor, &batch("SB2-2501", date!(2027 - 01 - 01)))
            .await,
        StoreError::Conflict { .. }
    );
    Pigments { fresh, expiring }
}

pub(crate) fn session(
    client_id: Uuid,
    practitioner: &Actor,
    batch_id: Uuid,
    performed_on: time::Date,
) -> NewSessionLog {
    NewSessionLog {
        client_id,
        appointment_id: None,
        performed_on,
        practitioner_id: practitioner.user_id(),
        zones: vec![ZoneKind::Hairline, ZoneKind::Frontal],
        batch_id,
        dilution: 0.4,
        needle: "1RL 0.18 mm".into(),
        needle_lot: "N-4471".into(),
        depth_mm: 0.8,
        machine_settings: "7.8 V, 3.5 mm stroke".into(),
        duration_minutes: 165,
        anaesthetic: "lidocaine 5% topical".into(),
        notes: "light bleeding at the temples".into(),
        chair: AtTheChair::default(),
    }
}

pub async fn sessions_batches_expiry_and_recall(store: &Store) {
    let c = clinic(store, "Sessions and pigments").await;
    let p = pigments(store, &c.practitioner).await;
    let sam = store.create_client(&c.practitioner, &new_sam()).await.unwrap();
    let kim = store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: "Kim".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    let lee = store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: "Lee".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();

    // The day before expiry: no warning. On the expiry day and after: refused at the chair
    // unless overridden with a reason; then logged, with a warning.
    let before = store
        .log_session(
            &c.practitioner,
            &session(sam.id, &c.practitioner, p.expiring.id, date!(2026 - 12 - 01)),
        )
        .await
        .unwrap();
    assert!(before.warnings.is_empty());
    let expired = Warning::BatchExpired {
        batch_id: p.expiring.id,
        lot: "SB2-2501".into(),
        expired_on: date!(2026 - 12 - 02),
    };
    for day in [date!(2026 - 12 - 02), date!(2027 - 03 - 01)] {
        match store
            .log_session(
                &c.practitioner,
                &session(kim.id, &c.practitioner, p.expiring.id, day),
            )
            .await
        {
            Err(StoreError::Invalid { field, message }) => {
                assert_eq!(field, "batch_id");
                assert!(
                    message.contains("lot SB2-2501 expired on 2026-12-02")
                        && message.contains("batch_override"),
                    "{message}"
                );
            }
            other => panic!("expected the expired batch refused, got {other:?}"),
        }
        let logged = store
            .log_session(
                &c.practitioner,
                &NewSessionLog {
                    chair: AtTheChair {
                        pigment_units: 0,
                        batch_override: "the client's own bottle, opened in front of them".into(),
                    },
                    ..session(kim.id, &c.practitioner, p.expiring.id, day)
                },
            )
            .await
            .unwrap();
        assert_eq!(logged.warnings, vec![expired.clone()]);
    }
    store
        .log_session(
            &c.owner,
            &session(lee.id, &c.owner, p.fresh.id, date!(2027 - 03 - 01)),
        )
        .await
        .unwrap();

    let logs = store.session_logs(&c.practitioner, sam.id).await.unwrap();
    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!(log.id, before.id);
    assert_eq!(log.zones, vec![ZoneKind::Hairline, ZoneKind::Frontal]);
    assert_eq!(
        (log.dilution, log.depth_mm, log.duration_minutes),
        (0.4, 0.8, 165)
    );
    assert_eq!((log.needle_lot.as_str(), log.batch_id), ("N-4471", p.expiring.id));
    assert_eq!(store.session_log(&c.owner, before.id).await.unwrap(), *log);

    // The recall lists every client and session that used the batch, and no other.
    let recall = store.recall(&c.practitioner, p.expiring.id).await.unwrap();
    let names: Vec<_> = recall
        .iter()
        .map(|r| (r.client_name.as_str(), r.performed_on))
        .collect();
    assert_eq!(
        names,
        [
            ("Kim", date!(2026 - 12 - 02)),
            ("Kim", date!(2027 - 03 - 01)),
            ("Sam Ólafsson", date!(2026 - 12 - 01))
        ]
    );
    assert_eq!(recall[2].session_id, before.id);
    assert_eq!(recall[2].phone, "+44 (0)7700 900123");
    assert_eq!(store.recall(&c.owner, p.fresh.id).await.unwrap().len(), 1);

    // A page at a time: one session a page walks the same list, the totals on every page.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .recall_page(&c.owner, p.expiring.id, after.as_deref(), 1)
            .await
            .unwrap();
        assert_eq!((page.sessions, page.clients), (3, 2));
        assert_eq!(page.entries.len(), 1);
        paged.extend(page.entries);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, recall);
    let whole = store
        .recall_page(&c.owner, p.expiring.id, None, 500)
        .await
        .unwrap();
    assert_eq!((whole.entries, whole.next), (recall.clone(), None));
    for (cursor, limit) in [
        (Some("not a cursor"), 50),
        (Some(&"f".repeat(80)[..]), 50),
        (None, 0),
        (None, 501),
    ] {
        let refused = store.recall_page(&c.owner, p.expiring.id, cursor, limit).await;
        let field = if cursor.is_some() { "cursor" } else { "limit" };
        assert!(
            matches!(&refused, Err(StoreError::Invalid { field: f, .. }) if *f == field),
            "{cursor:?}, {limit}: {refused:?}"
        );
    }
    assert_err!(
        store.recall(&c.front_desk, p.fresh.id).await,
        StoreError::Forbidden { .. }
    );
    assert_err!(
        store.recall(&c.owner, Uuid::new_v4()).await,
        StoreError::NotFound { .. }
    );

    // Stock.
    assert_eq!(
        store
            .adjust_batch_quantity(&c.practitioner, p.fresh.id, -2)
            .await
            .unwrap()
            .quantity,
        1
    );
    assert_err!(
        store.adjust_batch_quantity(&c.practitioner, p.fresh.id, -2).await,
        StoreError::Invalid {
            field: "quantity",
            ..
        }
    );
    assert_eq!(
        store.pigment_batch(&c.owner, p.fresh.id).await.unwrap().quantity,
        1
    );
    assert_eq!(store.pigment_batches(&c.owner).await.unwrap().len(), 2);
    assert_eq!(store.pigment_products(&c.owner).await.unwrap().len(), 1);

    // Bad sessions name the field.
    let base = session(sam.id, &c.practitioner, p.fresh.id, date!(2027 - 01 - 01));
    for (bad, field) in [
        (
            NewSessionLog {
                zones: vec![],
                ..base.clone()
            },
            "zones",
        ),
        (
            NewSessionLog {
                zones: vec![ZoneKind::Crown, ZoneKind::Crown],
                ..base.clone()
            },
            "zones",
        ),
        (
            NewSessionLog {
                dilution: 0.0,
                ..base.clone()
            },
            "dilution",
        ),
        (
            NewSessionLog {
                dilution: f64::NAN,
                ..base.clone()
            },
            "dilution",
        ),
        (
            NewSessionLog {
                depth_mm: 8.0,
                ..base.clone()
            },
            "depth_mm",
        ),
        (
            NewSessionLog {
                needle_lot: String::new(),
                ..base.clone()
            },
            "needle_lot",
        ),
        (
            NewSessionLog {
                duration_minutes: 0,
                ..base.clone()
            },
            "duration_minutes",
        ),
    ] {
        match store.log_session(&c.practitioner, &bad).await {
            Err(StoreError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: expected Invalid, got {other:?}"),
        }
    }
    assert_err!(
        store
            .log_session(
                &c.practitioner,
                &NewSessionLog {
                    batch_id: Uuid::new_v4(),
                    ..base.clone()
                }
            )
            .await,
        StoreError::NotFound {
            what: "pigment batch"
        }
    );
    assert_err!(
        store.log_session(&c.front_desk, &base).await,
        StoreError::Forbidden { .. }
    );
}

pub use follicle_store::testing::jpeg_with_gps;

/// Whether EXIF GPS latitude can be read from the bytes (by an independent EXIF reader).
pub fn has_gps(bytes: &[u8]) -> bool {
    exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .ok()
        .and_then(|e| e.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY).map(|_| ()))
        .is_some()
}

pub async fn photos_are_stored_without_metadata(store: &Store) {
    let c = clinic(store, "Photos").await;
    let client = store.create_client(&c.practitioner, &new_sam()).await.unwrap();
    let consent = store
        .record_consent(
            &c.practitioner,
            &NewConsent {
                client_id: client.id,
                kind: ConsentKind::Photos,
                template_version: "photos-2026-1".into(),
                text: "I agree that the clinic takes and keeps photos of my scalp for my treatment record."
                    .into(),
                signed_by: "Sam Ólafsson".into(),
                signed_at: datetime!(2026-12-01 09:05 UTC),
            },
        )
        .await
        .unwrap();
    let original = jpeg_with_gps();
    assert!(has_gps(&original));
    let photo = store
        .upload_photo(
            &c.practitioner,
            &NewPhoto {
                client_id: client.id,
                angle: PhotoAngle::Front,
                taken_at: datetime!(2026-12-01 09:10 UTC),
                session_id: None,
                consent_id: Some(consent.id),
                consultation_id: None,
                consented: true,
            },
            &original,
        )
        .await
        .unwrap();
    assert_eq!((photo.width, photo.height, photo.orientation), (32, 24, Some(6)));
    assert_eq!(photo.content_type, "image/jpeg");
    let (record, bytes) = store.photo(&c.owner, photo.id).await.unwrap();
    assert_eq!(record, photo);
    assert_eq!(bytes.len() as i64, photo.byte_size);
    assert!(!has_gps(&bytes), "GPS survived");
    assert!(!bytes.windows(6).any(|w| w == b"Exif\0\0"), "EXIF survived");
    // The picture itself is untouched.
    let decode = |b: &[u8]| image::load_from_memory(b).unwrap().to_rgb8();
    assert_eq!(decode(&bytes), decode(&original));
    assert_eq!(
        store.photos(&c.practitioner, client.id).await.unwrap(),
        vec![photo]
    );
    assert_eq!(store.consents(&c.owner, client.id).await.unwrap(), vec![consent]);

    let new = NewPhoto {
        client_id: client.id,
        angle: PhotoAngle::Top,
        taken_at: datetime!(2026-12-01 09:11 UTC),
        session_id: None,
        consent_id: None,
        consultation_id: None,
        consented: true,
    };
    assert_err!(
        store
            .upload_photo(&c.practitioner, &new, b"GIF89a not a photo")
            .await,
        StoreError::Photo(PhotoError::UnsupportedFormat)
    );
    assert_err!(
        store.upload_photo(&c.front_desk, &new, &original).await,
        StoreError::Forbidden { .. }
    );
    assert_err!(
        store
            .upload_photo(
                &c.practitioner,
                &NewPhoto {
                    session_id: Some(Uuid::new_v4()),
                    ..new.clone()
                },
                &original
            )
            .await,
        StoreError::NotFound { what: "session log" }
    );
    assert_err!(
        store
            .upload_photo(
                &c.practitioner,
                &NewPhoto {
                    consultation_id: Some(Uuid::new_v4()),
                    ..new.clone()
                },
                &original
            )
            .await,
        StoreError::NotFound { what: "consultation" }
    );
    assert_eq!(store.photos(&c.practitioner, client.id).await.unwrap().len(), 1);
    // A photo taken at a consultation, without the client's consent to it, keeps both.
    let (consult, _) = store
        .add_consultation(&c.practitioner, &consultation(client.id, "V"), None)
        .await
        .unwrap();
    let at_consultation = store
        .upload_photo(
            &c.practitioner,
            &NewPhoto {
                consultation_id: Some(consult.id),
                consented: false,
                ..new.clone()
            },
            &original,
        )
        .await
        .unwrap();
    let (record, _) = store.photo(&c.owner, at_consultation.id).await.unwrap();
    assert_eq!(
        (record.consultation_id, record.consented),
        (Some(consult.id), false)
    );
    assert_eq!(store.photos(&c.practitioner, client.id).await.unwrap().len(), 2);
}

pub async fn another_clinic_finds_nothing(store: &Store) {
    let a = clinic(store, "Clinic A").await;
    let b = clinic(store, "Clinic B").await;
    let p = pigments(store, &a.practitioner).await;
    let client = store.create_client(&a.practitioner, &new_sam()).await.unwrap();
    let consult = store
        .add_consultation(&a.practitioner, &consultation(client.id, "V"), None)
        .await
        .unwrap()
        .0;
    let design = store
        .add_design(&a.practitioner, &new_design(client.id, Some(consult.id), 3))
        .await
        .unwrap();
    let logged = store
        .log_session(
            &a.practitioner,
            &session(client.id, &a.practitioner, p.fresh.id, date!(2027 - 01 - 05)),
        )
        .await
        .unwrap();
    let new_photo = NewPhoto {
        client_id: client.id,
        angle: PhotoAngle::Back,
        taken_at: datetime!(2027-01-05 10:00 UTC),
        session_id: Some(logged.id),
        consent_id: None,
        consultation_id: None,
        consented: true,
    };
    let photo = store
        .upload_photo(&a.practitioner, &new_photo, &jpeg_with_gps())
        .await
        .unwrap();
    let appointment = store
        .book_appointment(
            &a.front_desk,
            &NewAppointment {
                client_id: client.id,
                practitioner_id: None,
                starts_at: datetime!(2027-02-01 10:00 UTC),
                duration_minutes: 60,
                notes: String::new(),
            },
        )
        .await
        .unwrap();

    // Clinic B's owner may do everything, and finds none of clinic A's records.
    let o = &b.owner;
    macro_rules! not_found {
        ($($call:expr),+ $(,)?) => {
            $( assert_err!($call.await, StoreError::NotFound { .. }); )+
        };
    }
    not_found!(
        store.client(o, client.id),
        store.update_client(o, client.id, &new_sam()),
        store.delete_client(o, client.id),
        store.consultations(o, client.id),
        store.consultation(o, consult.id),
        store.add_consultation(o, &consultation(client.id, "V"), None),
        store.designs(o, client.id),
        store.design(o, design.id),
        store.add_design(o, &new_design(client.id, None, 1)),
        store.session_logs(o, client.id),
        store.session_log(o, logged.id),
        store.log_session(o, &session(client.id, o, p.fresh.id, date!(2027 - 01 - 06))),
        store.photos(o, client.id),
        store.photo(o, photo.id),
        store.upload_photo(o, &new_photo, &jpeg_with_gps()),
        store.pigment_batch(o, p.fresh.id),
        store.adjust_batch_quantity(o, p.fresh.id, 1),
        store.recall(o, p.fresh.id),
        store.recall_page(o, p.fresh.id, None, 50),
        store.client_appointments(o, client.id),
        store.set_appointment_status(o, appointment.id, AppointmentStatus::Cancelled),
        store.consents(o, client.id),
        store.export_client(o, client.id),
        store.audit_log(o, client.id),
        store.user(o, a.owner.user_id()),
        store.update_user(o, a.practitioner.user_id(), Role::FrontDesk, false),
    );
    // Nor through its own records: B's client with A's batch, A's practitioner, A's session.
    let theirs = store
        .create_client(
            &b.front_desk,
            &NewClient {
                name: "B's client".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    not_found!(
        store.log_session(o, &session(theirs.id, o, p.fresh.id, date!(2027 - 01 - 06))),
        store.log_session(
            o,
            &session(theirs.id, &a.practitioner, p.fresh.id, date!(2027 - 01 - 06))
        ),
        store.upload_photo(
            o,
            &NewPhoto {
                client_id: theirs.id,
                ..new_photo.clone()
            },
            &jpeg_with_gps()
        ),
        store.book_appointment(
            o,
            &NewAppointment {
                client_id: theirs.id,
                practitioner_id: Some(a.owner.user_id()),
                starts_at: datetime!(2027-02-01 10:00 UTC),
                duration_minutes: 60,
                notes: String::new()
            }
        ),
    );
    assert!(store.search_clients(o, "sam", 50).await.unwrap().is_empty());
    assert!(store.pigment_batches(o).await.unwrap().is_empty());
    assert_eq!(store.list_users(o).await.unwrap().len(), 3);
    // A's records are unchanged.
    assert_eq!(store.client(&a.owner, client.id).await.unwrap(), client);
    assert_eq!(
        store.pigment_batch(&a.owner, p.fresh.id).await.unwrap().quantity,
        3
    );
}

pub async fn audit_log_records_who_did_what(store: &Store) {
    let c = clinic(store, "Audit").await;
    let client = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    store.client(&c.practitioner, client.id).await.unwrap();
    store
        .update_client(
            &c.front_desk,
            client.id,
            &NewClient {
                notes: "moved".into(),
                ..new_sam()
            },
        )
        .await
        .unwrap();
    store
        .add_consultation(&c.practitioner, &consultation(client.id, "V"), None)
        .await
        .unwrap();
    store.consultations(&c.owner, client.id).await.unwrap();
    store.export_client(&c.owner, client.id).await.unwrap();
    assert_err!(
        store.audit_log(&c.practitioner, client.id).await,
        StoreError::Forbidden { .. }
    );

    let log = store.audit_log(&c.owner, client.id).await.unwrap();
    let lines: Vec<_> = log
        .iter()
        .map(|e| (e.user_id, e.action, e.detail.as_str()))
        .collect();
    let has = |user: &Actor, action, detail: &str| lines.contains(&(user.user_id(), action, detail));
    assert!(has(&c.front_desk, AuditAction::Created, "client"), "{lines:?}");
    assert!(has(&c.practitioner, AuditAction::Viewed, "client"), "{lines:?}");
    assert!(has(&c.front_desk, AuditAction::Changed, "client"), "{lines:?}");
    assert!(
        has(&c.practitioner, AuditAction::Created, "consultation v1"),
        "{lines:?}"
    );
    assert!(has(&c.owner, AuditAction::Viewed, "consultations"), "{lines:?}");
    assert!(has(&c.owner, AuditAction::Exported, "whole record"), "{lines:?}");
    assert!(log.iter().all(|e| e.client_id == Some(client.id)));
    assert!(log.windows(2).all(|w| w[0].id < w[1].id && w[0].at <= w[1].at));

    // The trail outlives a deleted client.
    let kim = store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: "Kim".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    store.delete_client(&c.owner, kim.id).await.unwrap();
    let trail = store.audit_log(&c.owner, kim.id).await.unwrap();
    assert_eq!(
        trail.iter().map(|e| e.action).collect::<Vec<_>>(),
        [AuditAction::Created, AuditAction::Deleted]
    );
    assert_err!(
        store.audit_log(&c.owner, Uuid::new_v4()).await,
        StoreError::NotFound { .. }
    );
}

pub async fn export_has_the_whole_record(store: &Store) {
    let c = clinic(store, "Export").await;
    let p = pigments(store, &c.owner).await;
    let client = store.create_client(&c.practitioner, &new_sam()).await.unwrap();
    store
        .add_consultation(&c.practitioner, &consultation(client.id, "V"), None)
        .await
        .unwrap();
    store
        .add_design(&c.practitioner, &new_design(client.id, None, 9))
        .await
        .unwrap();
    store
        .log_session(
            &c.practitioner,
            &session(client.id, &c.practitioner, p.fresh.id, date!(2027 - 01 - 05)),
        )
        .await
        .unwrap();
    let new_photo = NewPhoto {
        client_id: client.id,
        angle: PhotoAngle::Left,
        taken_at: datetime!(2027-01-05 10:00 UTC),
        session_id: None,
        consent_id: None,
        consultation_id: None,
        consented: true,
    };
    store
        .upload_photo(&c.practitioner, &new_photo, &jpeg_with_gps())
        .await
        .unwrap();
    assert_err!(
        store.export_client(&c.front_desk, client.id).await,
        StoreError::Forbidden {
            action: Action::ExportClient,
            ..
        }
    );
    let export = store.export_client(&c.owner, client.id).await.unwrap();
    assert_eq!(export.client, client);
    assert_eq!(
        (
            export.consultations.len(),
            export.designs.len(),
            export.sessions.len(),
            export.photos.len()
        ),
        (1, 1, 1, 1)
    );
    let json = serde_json::to_value(&export).unwrap();
    assert_eq!(json["sessions"][0]["zones"], json!(["hairline", "frontal"]));
}

pub async fn backup_copies_the_database(store: &Store) {
    let c = clinic(store, "Backup").await;
    let client = store.create_client(&c.practitioner, &new_sam()).await.unwrap();
    let dir = crate::support::temp_dir();
    let copy = dir.join("backup.db");
    match store.backend() {
        Backend::Sqlite => {
            store.backup_to(&copy).await.unwrap();
            assert_err!(store.backup_to(&copy).await, StoreError::Conflict { .. });
            let restored = Store::open(&format!("sqlite://{}", copy.display()), Blobs::in_memory())
                .await
                .unwrap();
            let owner = restored.actor(c.owner.user_id()).await.unwrap();
            assert_eq!(restored.client(&owner, client.id).await.unwrap(), client);
            // The copy is a working database of its own.
            restored
                .create_client(
                    &owner,
                    &NewClient {
                        name: "After the backup".into(),
                        ..NewClient::default()
                    },
                )
                .await
                .unwrap();
            assert_eq!(store.search_clients(&c.owner, "", 10).await.unwrap().len(), 1);
            restored.close().await;
        }
        Backend::Postgres => {
            assert_err!(
                store.backup_to(&copy).await,
                StoreError::Invalid { field: "backup", .. }
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
