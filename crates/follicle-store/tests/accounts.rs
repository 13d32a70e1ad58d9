//! Accounts and audit on both backends: the password policy, emails per clinic, two-factor
//! sign-in with codes and recovery codes, reset links, sessions and the idle timeout, the
//! owner's resets and account rules, and the clinic's audit log with its filters, pages and
//! retention.

use follicle_store::testing::totp_code;
use follicle_store::*;
use time::{Duration, OffsetDateTime};

use crate::support::{PASSWORD, TestStore, clinic};

macro_rules! assert_err {
    ($result:expr, $pattern:pat) => {
        match $result {
            Err($pattern) => {}
            other => panic!("expected {}, got {:?}", stringify!($pattern), other.map(|_| ())),
        }
    };
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = crate::support::TestStore::sqlite().await;
                    super::$name(&test).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = crate::support::TestStore::postgres().await;
                    super::$name(&test).await;
                }
            )*
        }
    };
}

both!(
    the_password_policy_applies_to_new_users,
    emails_are_unique_per_clinic_only,
    two_factor_sign_in_with_codes_and_recovery_codes,
    a_reset_link_works_once_and_expires,
    sessions_are_listed_ended_and_time_out_when_idle,
    owners_reset_staff_and_require_two_factor,
    the_audit_log_records_filters_and_pages,
    the_audit_purge_deletes_in_batches_each_clinic_by_its_years,
);

fn user(email: &str, password: &str, role: Role) -> NewUser {
    NewUser {
        email: email.into(),
        name: "Robin Hart".into(),
        role,
        password: password.into(),
    }
}

async fn the_password_policy_applies_to_new_users(test: &TestStore) {
    let store = &test.store;
    let c = clinic(store, "Policy").await;
    for bad in [
        "aaaaaaaaaa",
        "password1",
        "12345678",
        "abcdefghij",
        "short",
        "robinhart",
        "robin.hart@x.example",
    ] {
        assert_err!(
            store
                .add_user(&c.owner, user("robin.hart@x.example", bad, Role::Practitioner))
                .await,
            StoreError::Invalid {
                field: "password",
                ..
            }
        );
    }
    store
        .add_user(
            &c.owner,
            user(
                "robin.hart@x.example",
                "lanterns at the harbour",
                Role::Practitioner,
            ),
        )
        .await
        .unwrap();
}

async fn emails_are_unique_per_clinic_only(test: &TestStore) {
    let store = &test.store;
    let a = clinic(store, "North").await;
    let b = clinic(store, "South").await;
    let now = OffsetDateTime::now_utc();
    // The same person works in two clinics, with a password each.
    store
        .add_user(
            &a.owner,
            user("shared@x.example", "north clinic words", Role::Practitioner),
        )
        .await
        .unwrap();
    // Adding the address in another clinic reveals nothing: it simply works.
    let in_b = store
        .add_user(
            &b.owner,
            user("shared@x.example", "south clinic words", Role::FrontDesk),
        )
        .await
        .unwrap();
    // Within one clinic it is taken.
    assert_err!(
        store
            .add_user(
                &b.owner,
                user("Shared@x.example", "another set of words", Role::FrontDesk)
            )
            .await,
        StoreError::Conflict { .. }
    );
    // The password picks the account.
    let south = store
        .login("shared@x.example", "south clinic words", "192.0.2.1", now)
        .await
        .unwrap();
    assert_eq!(south.actor.user_id(), in_b.id);
    assert_eq!(south.actor.clinic_id(), b.owner.clinic_id());
    let north = store
        .login("shared@x.example", "north clinic words", "192.0.2.1", now)
        .await
        .unwrap();
    assert_eq!(north.actor.clinic_id(), a.owner.clinic_id());
}

async fn two_factor_sign_in_with_codes_and_recovery_codes(test: &TestStore) {
    let store = &test.store;
    let c = clinic(store, "Two factor").await;
    let now = OffsetDateTime::now_utc();
    let enrolment = store.begin_totp(&c.owner).await.unwrap();
    assert!(
        enrolment
            .otpauth_url
            .starts_with("otpauth://totp/Follicle%20%28Two%20factor%29:"),
        "{}",
        enrolment.otpauth_url
    );
    assert_eq!(format!("{enrolment:?}"), "TotpEnrolment([redacted])");
    // Nothing changes before the first code.
    store
        .login(&c.owner_email, PASSWORD, "192.0.2.1", now)
        .await
        .unwrap();
    assert_err!(
        store.confirm_totp(&c.owner, "000000", now).await,
        StoreError::Invalid { field: "code", .. }
    );
    let codes = store
        .confirm_totp(&c.owner, &totp_code(&enrolment.secret, now), now)
        .await
        .unwrap();
    assert_eq!(codes.len(), 10);
    assert_eq!(store.recovery_codes_left(&c.owner).await.unwrap(), 10);
    assert!(store.user(&c.owner, c.owner.user_id()).await.unwrap().two_factor);

    // The password alone opens no session.
    let challenge = |r: StoreResult<LoginSession>| match r {
        Err(StoreError::SecondFactorRequired { challenge }) => challenge,
        other => panic!("expected a challenge, got {:?}", other.map(|_| ())),
    };
    let first = challenge(store.login(&c.owner_email, PASSWORD, "192.0.2.1", now).await);
    assert_err!(
        store
            .complete_sign_in(&first, "123456", "192.0.2.1", "test", now)
            .await,
        StoreError::Unauthenticated
    );
    // The confirming code was used: the same step's code is refused; the next step's works.
    assert_err!(
        store
            .complete_sign_in(
                &first,
                &totp_code(&enrolment.secret, now),
                "192.0.2.1",
                "test",
                now
            )
            .await,
        StoreError::Unauthenticated
    );
    let later = now + Duration::seconds(30);
    let session = store
        .complete_sign_in(
            &first,
            &totp_code(&enrolment.secret, later),
            "192.0.2.1",
            "test",
            later,
        )
        .await
        .unwrap();
    assert_eq!(
        store.authenticate(session.token.as_str(), later).await.unwrap(),
        c.owner
    );
    // A challenge opens one session.
    assert_err!(
        store
            .complete_sign_in(&first, &codes[0], "192.0.2.1", "test", later)
            .await,
        StoreError::Unauthenticated
    );

    // A recovery code works once, typed in any case and without dashes.
    let second = challenge(store.login(&c.owner_email, PASSWORD, "192.0.2.1", later).await);
    let typed = codes[0].replace('-', "").to_lowercase();
    store
        .complete_sign_in(&second, &typed, "192.0.2.1", "test", later)
        .await
        .unwrap();
    let third = challenge(store.login(&c.owner_email, PASSWORD, "192.0.2.1", later).await);
    assert_err!(
        store
            .complete_sign_in(&third, &codes[0], "192.0.2.1", "test", later)
            .await,
        StoreError::Unauthenticated
    );
    assert_eq!(store.recovery_codes_left(&c.owner).await.unwrap(), 9);

    // Five wrong codes spend a challenge, even with the right code after them.
    let fourth = challenge(store.login(&c.owner_email, PASSWORD, "192.0.2.1", later).await);
    for _ in 0..5 {
        assert_err!(
            store
                .complete_sign_in(&fourth, "000000", "192.0.2.1", "test", later)
                .await,
            StoreError::Unauthenticated
        );
    }
    assert_err!(
        store
            .complete_sign_in(&fourth, &codes[1], "192.0.2.1", "test", later)
            .await,
        StoreError::Unauthenticated
    );
    // An expired challenge is refused.
    let fifth = challenge(store.login(&c.owner_email, PASSWORD, "192.0.2.1", later).await);
    let much_later = later + Duration::minutes(6);
    assert_err!(
        store
            .complete_sign_in(&fifth, &codes[1], "192.0.2.1", "test", much_later)
            .await,
        StoreError::Unauthenticated
    );

    // Turning it off asks for the password; then the password alone signs in again.
    assert_err!(
        store.disable_totp(&c.owner, "not my password").await,
        StoreError::Invalid {
            field: "password",
            ..
        }
    );
    store.disable_totp(&c.owner, PASSWORD).await.unwrap();
    store
        .login(&c.owner_email, PASSWORD, "192.0.2.1", much_later)
        .await
        .unwrap();

    // Every step is in the audit log.
    let log = store
        .audit_trail(
            &c.owner,
            &AuditFilter {
                user_id: Some(c.owner.user_id()),
                limit: 500,
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    let has = |action, detail: &str| {
        log.entries
            .iter()
            .any(|e| e.action == action && e.detail == detail)
    };
    assert!(has(AuditAction::SecondFactor, "turned on"));
    assert!(has(AuditAction::SecondFactor, "turned off"));
    assert!(has(AuditAction::SignedIn, "password and authenticator code"));
    assert!(has(AuditAction::SignedIn, "password and recovery code"));
    assert!(has(AuditAction::SignInFailed, "wrong second-factor code"));
}

async fn a_reset_link_works_once_and_expires(test: &TestStore) {
    let store = &test.store;
    let c = clinic(store, "Reset").await;
    let now = OffsetDateTime::now_utc();
    let old = store
        .login(&c.owner_email, PASSWORD, "192.0.2.1", now)
        .await
        .unwrap();
    // An unknown email gets nothing (and the caller answers the same).
    assert!(
        store
            .request_password_reset("nobody@x.example", "192.0.2.1", now)
            .await
            .unwrap()
            .is_empty()
    );
    let mails = store
        .request_password_reset(&c.owner_email.to_uppercase(), "192.0.2.1", now)
        .await
        .unwrap();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.to, c.owner_email);
    assert_eq!(mail.clinic_name, "Reset");
    assert_eq!(
        mail.expires_at,
        now.replace_nanosecond(0).unwrap() + Duration::hours(1)
    );
    assert!(!format!("{mail:?}").contains(&mail.token));
    // A refused password leaves the link usable.
    assert_err!(
        store
            .reset_password(&mail.token, "aaaaaaaaaa", "192.0.2.1", now)
            .await,
        StoreError::Invalid {
            field: "new_password",
            ..
        }
    );
    assert!(store.reset_token_valid(&mail.token, now).await.unwrap());
    store
        .reset_password(&mail.token, "a brand new passphrase", "192.0.2.1", now)
        .await
        .unwrap();
    // Once only.
    assert!(!store.reset_token_valid(&mail.token, now).await.unwrap());
    assert_err!(
        store
            .reset_password(&mail.token, "another new passphrase", "192.0.2.1", now)
            .await,
        StoreError::Invalid { field: "token", .. }
    );
    // The old password and the old sessions are gone.
    assert_err!(
        store.authenticate(old.token.as_str(), now).await,
        StoreError::Unauthenticated
    );
    assert_err!(
        store.login(&c.owner_email, PASSWORD, "192.0.2.1", now).await,
        StoreError::Unauthenticated
    );
    store
        .login(&c.owner_email, "a brand new passphrase", "192.0.2.1", now)
        .await
        .unwrap();
    // An hour later a link no longer works.
    let mails = store
        .request_password_reset(&c.owner_email, "192.0.2.1", now)
        .await
        .unwrap();
    let late = now + Duration::minutes(61);
    assert!(!store.reset_token_valid(&mails[0].token, late).await.unwrap());
    assert_err!(
        store
            .reset_password(&mails[0].token, "too late for this one", "192.0.2.1", late)
            .await,
        StoreError::Invalid { field: "token", .. }
    );
    // At most three links wait at once; more requests send nothing.
    for _ in 0..3 {
        store
            .request_password_reset(&c.owner_email, "192.0.2.1", now)
            .await
            .unwrap();
    }
    assert!(
        store
            .request_password_reset(&c.owner_email, "192.0.2.1", now)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn sessions_are_listed_ended_and_time_out_when_idle(test: &TestStore) {
    let store = &test.store;
    let c = clinic(store, "Sessions").await;
    let now = OffsetDateTime::now_utc();
    let here = store
        .login(&c.owner_email, PASSWORD, "192.0.2.1", now)
        .await
        .unwrap();
    let there = store
        .login(&c.owner_email, PASSWORD, "198.51.100.4", now)
        .await
        .unwrap();
    store
        .describe_session(there.token.as_str(), "Firefox on a tablet")
        .await
        .unwrap();
    let me = store.authenticate(here.token.as_str(), now).await.unwrap();
    let list = store.list_sessions(&me, now).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s.current).count(), 1);
    let other = list.iter().find(|s| !s.current).unwrap();
    assert_eq!(
        (other.ip.as_str(), other.user_agent.as_str()),
        ("198.51.100.4", "Firefox on a tablet")
    );
    assert_eq!(me.session_id().len(), 16);

    store.end_session(&me, &other.id).await.unwrap();
    assert_err!(
        store.authenticate(there.token.as_str(), now).await,
        StoreError::Unauthenticated
    );
    assert_err!(
        store.end_session(&me, &other.id).await,
        StoreError::NotFound { .. }
    );
    assert_eq!(store.list_sessions(&me, now).await.unwrap().len(), 1);

    // Idle: used within the timeout keeps it; 31 idle minutes end it (default 30).
    let rules = store.account_rules(&c.owner).await.unwrap();
    assert_eq!(
        rules,
        AccountRules {
            require_mfa: false,
            idle_timeout_minutes: 30,
            audit_retention_years: 6
        }
    );
    let t = now + Duration::minutes(20);
    store.authenticate(here.token.as_str(), t).await.unwrap();
    let t = t + Duration::minutes(25);
    store.authenticate(here.token.as_str(), t).await.unwrap();
    assert_err!(
        store
            .authenticate(here.token.as_str(), t + Duration::minutes(31))
            .await,
        StoreError::Unauthenticated
    );
    // The timeout is the clinic's.
    assert_err!(
        store
            .update_account_rules(
                &c.owner,
                AccountRules {
                    idle_timeout_minutes: 1,
                    ..rules
                }
            )
            .await,
        StoreError::Invalid {
            field: "idle_timeout_minutes",
            ..
        }
    );
    assert_err!(
        store.update_account_rules(&c.practitioner, rules).await,
        StoreError::Forbidden { .. }
    );

    // Sign out everywhere.
    let a = store
        .login(&c.owner_email, PASSWORD, "192.0.2.1", now)
        .await
        .unwrap();
    let b = store
        .login(&c.owner_email, PASSWORD, "192.0.2.1", now)
        .await
        .unwrap();
    let actor = store.authenticate(a.token.as_str(), now).await.unwrap();
    assert!(store.sign_out_everywhere(&actor).await.unwrap() >= 2);
    assert_err!(
        store.authenticate(b.token.as_str(), now).await,
        StoreError::Unauthenticated
    );

    // Changing the password keeps this session and ends the others.
    let a = store
        .login(&c.owner_email, PASSWORD, "192.0.2.1", now)
        .await
        .unwrap();
    let b = store
        .login(&c.owner_email, PASSWORD, "192.0.2.1", now)
        .await
        .unwrap();
    let actor = store.authenticate(a.token.as_str(), now).await.unwrap();
    assert_err!(
        store
            .change_password(&actor, "wrong one", "a fresh long passphrase")
            .await,
        StoreError::Invalid {
            field: "current_password",
            ..
        }
    );
    assert_err!(
        store.change_password(&actor, PASSWORD, "qwertyuiop").await,
        StoreError::Invalid {
            field: "new_password",
            ..
        }
    );
    store
        .change_password(&actor, PASSWORD, "a fresh long passphrase")
        .await
        .unwrap();
    assert!(store.authenticate(a.token.as_str(), now).await.is_ok());
    assert_err!(
        store.authenticate(b.token.as_str(), now).await,
        StoreError::Unauthenticated
    );
}

async fn owners_reset_staff_and_require_two_factor(test: &TestStore) {
    let store = &test.store;
    let c = clinic(store, "Owner").await;
    let now = OffsetDateTime::now_utc();
    let practitioner = store.user(&c.owner, c.practitioner.user_id()).await.unwrap();
    let theirs = store
        .login(&practitioner.email, PASSWORD, "192.0.2.1", now)
        .await
        .unwrap();
    assert_err!(
        store
            .reset_user_password(&c.practitioner, c.owner.user_id(), false, now)
            .await,
        StoreError::Forbidden { .. }
    );
    let mail = store
        .reset_user_password(&c.owner, practitioner.id, false, now)
        .await
        .unwrap();
    assert_eq!(mail.to, practitioner.email);
    // Their password and sessions stop working at once; the link sets a new one.
    assert_err!(
        store.authenticate(theirs.token.as_str(), now).await,
        StoreError::Unauthenticated
    );
    assert_err!(
        store.login(&practitioner.email, PASSWORD, "192.0.2.1", now).await,
        StoreError::Unauthenticated
    );
    store
        .reset_password(&mail.token, "my own words again", "192.0.2.1", now)
        .await
        .unwrap();
    store
        .login(&practitioner.email, "my own words again", "192.0.2.1", now)
        .await
        .unwrap();

    // Requiring two-factor: the owner first, then everyone.
    let rules = store.account_rules(&c.owner).await.unwrap();
    let required = AccountRules {
        require_mfa: true,
        ..rules
    };
    assert_err!(
        store.update_account_rules(&c.owner, required).await,
        StoreError::Invalid {
            field: "require_mfa",
            ..
        }
    );
    let enrolment = store.begin_totp(&c.owner).await.unwrap();
    store
        .confirm_totp(&c.owner, &totp_code(&enrolment.secret, now), now)
        .await
        .unwrap();
    store.update_account_rules(&c.owner, required).await.unwrap();
    let session = store
        .login(&practitioner.email, "my own words again", "192.0.2.1", now)
        .await
        .unwrap();
    let actor = store.authenticate(session.token.as_str(), now).await.unwrap();
    assert!(actor.enrolment_required());
    assert_err!(
        store.search_clients(&actor, "", 10).await,
        StoreError::EnrolmentRequired
    );
    // Their own account still works: they set it up, and everything opens.
    let theirs = store.begin_totp(&actor).await.unwrap();
    store
        .confirm_totp(&actor, &totp_code(&theirs.secret, now), now)
        .await
        .unwrap();
    let actor = store.authenticate(session.token.as_str(), now).await.unwrap();
    assert!(!actor.enrolment_required());
    store.search_clients(&actor, "", 10).await.unwrap();
    // Required, it cannot be turned off.
    assert_err!(
        store.disable_totp(&actor, "my own words again").await,
        StoreError::Conflict { .. }
    );
    // A lost phone: the owner's reset removes the second factor too.
    store
        .reset_user_password(&c.owner, practitioner.id, true, now)
        .await
        .unwrap();
    assert!(!store.user(&c.owner, practitioner.id).await.unwrap().two_factor);
}

async fn the_audit_log_records_filters_and_pages(test: &TestStore) {
    let store = &test.store;
    let c = clinic(store, "Audited").await;
    let other = clinic(store, "Elsewhere").await;
    let now = OffsetDateTime::now_utc();
    assert_err!(
        store
            .login(&c.owner_email, "not the password", "203.0.113.5", now)
            .await,
        StoreError::Unauthenticated
    );
    let session = store
        .login(&c.owner_email, PASSWORD, "203.0.113.5", now)
        .await
        .unwrap();
    let owner = store
        .authenticate(session.token.as_str(), now)
        .await
        .unwrap()
        .at_address("203.0.113.6");
    store.search_clients(&owner, "sam", 10).await.unwrap();
    store
        .appointments_between(&owner, now, now + Duration::days(7))
        .await
        .unwrap();
    store.update_clinic_settings(&owner, "", 9).await.unwrap();
    let added = store
        .add_user(
            &owner,
            user("new.person@x.example", "some good words here", Role::FrontDesk),
        )
        .await
        .unwrap();
    store
        .update_user(&owner, added.id, Role::Practitioner, true)
        .await
        .unwrap();
    assert_err!(
        store.audit_trail(&c.practitioner, &AuditFilter::default()).await,
        StoreError::Forbidden { .. }
    );

    let all = store
        .audit_trail(
            &owner,
            &AuditFilter {
                limit: 500,
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    let find = |action| {
        all.entries
            .iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("no {action}: {:?}", all.entries))
    };
    let failed = find(AuditAction::SignInFailed);
    assert_eq!(
        (failed.ip.as_str(), failed.detail.as_str()),
        ("203.0.113.5", "wrong password")
    );
    let signed_in = find(AuditAction::SignedIn);
    assert_eq!(
        (signed_in.ip.as_str(), signed_in.session.as_str()),
        ("203.0.113.5", owner.session_id().as_str())
    );
    let searched = find(AuditAction::Searched);
    assert_eq!(
        (searched.ip.as_str(), searched.session.as_str()),
        ("203.0.113.6", owner.session_id().as_str())
    );
    assert!(searched.detail.contains("\"sam\""), "{}", searched.detail);
    find(AuditAction::DiaryRead);
    assert!(
        find(AuditAction::SettingsChanged)
            .detail
            .contains("retention_years 8 → 9")
    );
    assert!(
        find(AuditAction::UserAdded)
            .detail
            .contains("new.person@x.example")
    );
    assert!(
        find(AuditAction::UserChanged)
            .detail
            .contains("front_desk → practitioner")
    );
    assert!(all.entries.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert!(all.next_before.is_none());
    // Another clinic's log holds none of it.
    let theirs = store
        .audit_trail(&other.owner, &AuditFilter::default())
        .await
        .unwrap();
    assert!(theirs.entries.iter().all(|e| e.action != AuditAction::Searched));

    // Filters.
    let only = |filter: AuditFilter| async move { store.audit_trail(&owner, &filter).await.unwrap().entries };
    let searches = only(AuditFilter {
        action: Some(AuditAction::Searched),
        ..AuditFilter::default()
    })
    .await;
    assert_eq!(searches.len(), 1);
    let by_desk = only(AuditFilter {
        user_id: Some(c.front_desk.user_id()),
        ..AuditFilter::default()
    })
    .await;
    assert!(by_desk.is_empty(), "{by_desk:?}");
    let future = only(AuditFilter {
        from: Some(now + Duration::days(1)),
        ..AuditFilter::default()
    })
    .await;
    assert!(future.is_empty());
    // The reads of the log are logged.
    let reads = only(AuditFilter {
        action: Some(AuditAction::AuditRead),
        ..AuditFilter::default()
    })
    .await;
    assert_eq!(reads.len(), 4, "the four reads above: {reads:?}");

    // Pages: keyset, no entry twice or left out.
    let total = store
        .audit_trail(
            &owner,
            &AuditFilter {
                limit: 500,
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap()
        .entries;
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .audit_trail(
                &owner,
                &AuditFilter {
                    limit: 3,
                    before,
                    ..AuditFilter::default()
                },
            )
            .await
            .unwrap();
        assert!(page.entries.len() <= 3);
        seen.extend(page.entries.iter().map(|e| e.id).filter(|&id| id <= total[0].id));
        match page.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    assert_eq!(seen, total.iter().map(|e| e.id).collect::<Vec<_>>());
    assert_err!(
        store
            .audit_trail(
                &owner,
                &AuditFilter {
                    limit: 501,
                    ..AuditFilter::default()
                }
            )
            .await,
        StoreError::Invalid { field: "limit", .. }
    );

    // Retention: rows older than the clinic's years are purged, each clinic by its own rule.
    store.purge_expired(now + Duration::days(365 * 7)).await.unwrap();
    let kept = store
        .audit_trail(
            &other.owner,
            &AuditFilter {
                limit: 500,
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert!(kept.entries.is_empty(), "{:?}", kept.entries);
}

async fn the_audit_purge_deletes_in_batches_each_clinic_by_its_years(test: &TestStore) {
    let store = &test.store;
    let kept_long = clinic(store, "Ten years").await;
    let default = clinic(store, "Six years").await;
    let rules = store.account_rules(&kept_long.owner).await.unwrap();
    store
        .update_account_rules(
            &kept_long.owner,
            AccountRules {
                audit_retention_years: 10,
                ..rules
            },
        )
        .await
        .unwrap();
    for c in [&kept_long, &default] {
        for q in ["sam", "lee", "kim", "ana", "bo"] {
            store.search_clients(&c.owner, q, 10).await.unwrap();
        }
    }
    let rows = |c: &'static str| {
        let actor = if c == "long" {
            &kept_long.owner
        } else {
            &default.owner
        };
        let everything = AuditFilter {
            limit: 500,
            ..AuditFilter::default()
        };
        async move { store.audit_trail(actor, &everything).await.unwrap().entries }
    };
    let before = rows("default").await.len();
    assert!(before >= 5, "the searches are logged: {before}");
    let now = OffsetDateTime::now_utc();

    // Seven years on, in statements of two rows: the six-year clinic's rows go, all of them
    // (more than one statement's worth), the ten-year clinic's stay.
    let purged = testing::purge_old_audit_in(store, now + Duration::days(365 * 7), 2).await;
    assert!(purged > 2, "several statements: {purged}");
    assert!(rows("default").await.is_empty());
    let long = rows("long").await;
    assert!(
        long.iter().filter(|e| e.action == AuditAction::Searched).count() == 5,
        "{long:?}"
    );
    // Eleven years on, the ten-year clinic's too.
    let purged = testing::purge_old_audit_in(store, now + Duration::days(365 * 11), 3).await;
    assert!(purged >= long.len() as u64, "{purged} of {}", long.len());
    assert!(rows("long").await.is_empty());
}
