//! Integration tests of the store: one binary, topic modules.
//!
//! The contract suite (`contract.rs`) is one set of async functions taking a `&Store`; the
//! `contract!` macro runs each against SQLite (a fresh file) and PostgreSQL (a fresh schema
//! in the database named by `FOLLICLE_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`). PostgreSQL is required: when it cannot be
//! reached the PostgreSQL tests fail and say so.

/// Runs each named test of `$module` (an async function taking a `&Store`) on both backends,
/// as `<test>::sqlite` and `<test>::postgres`.
macro_rules! both {
    ($($module:ident)::+; $name:ident $(, $rest:ident)* $(,)?) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let test = crate::support::TestStore::sqlite().await;
                $($module::)+$name(&test.store).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let test = crate::support::TestStore::postgres().await;
                $($module::)+$name(&test.store).await;
            }
        }
        both!($($module)::+; $($rest),*);
    };
    ($($module:ident)::+;) => {};
}

mod accounts;
mod batched;
mod contract;
mod desk;
mod diary;
mod jobs;
mod landmarks;
mod payments;
mod photos;
mod portal;
mod properties;
mod rights;
mod search;
mod support;

/// Runs each named contract test on both backends.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = crate::support::TestStore::sqlite().await;
                    crate::contract::$name(&test.store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = crate::support::TestStore::postgres().await;
                    crate::contract::$name(&test.store).await;
                }
            )*
        }
    };
}

contract!(
    clinic_with_owner_users_and_roles,
    login_sessions_lookup_expire_revoke,
    signin_throttling_bounds_guesses,
    clients_crud_and_search,
    consultations_are_versioned,
    consultation_and_design_are_one_write,
    old_records_still_load,
    designs_are_versioned,
    appointments_book_and_change,
    sessions_batches_expiry_and_recall,
    photos_are_stored_without_metadata,
    another_clinic_finds_nothing,
    audit_log_records_who_did_what,
    export_has_the_whole_record,
    backup_copies_the_database,
);

/// Runs each named data-rights test on both backends.
mod data_rights {
    both!(crate::rights;
        erasure_keeps_what_the_law_holds,
        retention_anonymises_past_the_period,
        client_archive_has_records_photos_and_trail,
        clinic_archive_and_csv_import,
    );
}

/// Runs each named job-queue test on both backends.
mod job_queue {
    both!(crate::jobs;
        a_job_is_queued_once_per_key,
        two_workers_never_take_the_same_job,
        a_dead_workers_job_is_taken_up_after_its_lease,
        failures_back_off_then_die_and_can_be_sent_again,
        a_job_recorded_as_sent_and_not_delivered_is_taken_back,
        a_message_is_logged_with_its_job_and_opt_outs_hold,
        erasure_takes_the_clients_messages,
        a_stop_reply_stops_every_client_with_the_number_once,
        a_client_without_a_session_has_no_touch_up_due,
    );
}

/// Runs each payments test (the desk's payments and receipts) on both backends.
mod payments_and_receipts {
    both!(crate::payments;
        payments_are_taken_with_receipts_that_hold,
        receipt_numbers_never_repeat_under_concurrency,
    );
}

/// Runs each named front-desk test (clients kept right, calendar feeds) on both backends.
mod front_desk {
    both!(crate::desk;
        phones_and_emails_are_checked,
        likely_duplicates_by_email_phone_or_name_and_birth,
        a_merge_moves_every_record_and_is_audited,
        calendar_feeds_are_made_read_renewed_and_revoked,
        the_owners_report_counts_sessions_revenue_no_shows_deposits_and_batches,
    );
}
