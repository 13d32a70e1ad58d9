//! Integration tests of the clinic server: one binary, topic modules.
//!
//! Every test calls the router without a socket (`tower::ServiceExt::oneshot`) over a store of
//! its own. The `both!` macro runs each test on SQLite (a fresh file) and on PostgreSQL (a
//! fresh schema in the database named by `FOLLICLE_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`, dropped afterwards). PostgreSQL is required:
//! when it cannot be reached the PostgreSQL tests fail and say so.
//!
//! - `api`: every endpoint, with the content of its answers.
//! - `auth`: sign-in failures and the rate limit, CSRF, roles.
//! - `desk`: a client's details changed, duplicates flagged and merged, calendar feeds, the
//!   owner's reports.
//! - `designer`: the designer's edit sessions: deltas that patch to the full pattern,
//!   superseded edits, the plan in the answer.
//! - `isolation`: another clinic finds nothing of the first, by any id on any route.
//! - `limits`: security headers, X-Forwarded-For from trusted proxies only, the device
//!   cookie that keeps an account's owner signing in while a stranger guesses.
//! - `fuzz`: malformed JSON and uploads answer 4xx JSON and change nothing.
//! - `openapi`: the document (snapshot) and that it lists every route.
//! - `records`: printed plans stay as issued; re-plans are new versions with differences.
//! - `rights`: the client archive, erasure under the legal hold, the clinic export, the CSV
//!   import, retention reports, and photos that answer after a restore.
//! - `settings_page`: the studio's settings form, generated from the settings schema.
//! - `shapes`: real answers validated against the document's schemas; no untyped schema.
//! - `sms`: text messages through a local server speaking the SMS provider's API, replies
//!   (STOP, START) through its signed webhook, and the touch-up recall.

/// Runs each named test of the module it is called in — an async function taking the test store
/// and its backend, for tests that build their own app (a mail relay in the configuration) — on
/// SQLite and on PostgreSQL, as `sqlite::<test>` and `postgres::<test>`.
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let test = crate::support::TestStore::sqlite().await;
                    super::$name(&test, crate::support::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let test = crate::support::TestStore::postgres().await;
                    super::$name(&test, crate::support::Backend::Postgres).await;
                }
            )*
        }
    };
}

mod accounts;
mod api;
mod auth;
mod designer;
mod desk;
mod estimate;
mod fuzz;
mod isolation;
mod landmarks;
mod lean;
mod limits;
mod mail_catcher;
mod messages;
mod openapi;
mod payments;
mod photo_view;
mod portal;
mod portal_own;
mod records;
mod rights;
mod settings_page;
mod shapes;
mod sms;
mod support;

/// Runs each named test (an `async fn(&App)` in the named module) on both backends.
macro_rules! both {
    ($($module:ident { $($name:ident),* $(,)? })*) => {
        mod sqlite {
            $(
                mod $module {
                    $(
                        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                        async fn $name() {
                            let test = crate::support::TestStore::sqlite().await;
                            let app = crate::support::App::new(&test.store, crate::support::Backend::Sqlite);
                            crate::$module::$name(&app).await;
                        }
                    )*
                }
            )*
        }
        mod postgres {
            $(
                mod $module {
                    $(
                        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                        async fn $name() {
                            let test = crate::support::TestStore::postgres().await;
                            let app = crate::support::App::new(&test.store, crate::support::Backend::Postgres);
                            crate::$module::$name(&app).await;
                        }
                    )*
                }
            )*
        }
    };
}

both! {
    api {
        health_defaults_and_unknown_routes,
        sign_in_me_and_sign_out,
        clinic_and_settings,
        users_list_add_update,
        clients_search_create_get_update_delete,
        consultations_add_list_get,
        designs_add_list_get_pattern_preview,
        consents_add_list,
        photos_upload_list_download_without_exif,
        appointments_between_book_status_client,
        today_shows_the_week_whatever_the_history,
        clients_page_pages_the_list,
        sessions_log_list_get_with_expired_batch_warning,
        pigments_products_batches_stock_recall,
        audit_and_export,
        compute_assess_plan_pattern_preview,
    }
    desk {
        studio_edits_a_client_and_flags_a_duplicate,
        the_owner_merges_a_duplicate_not_across_clinics,
        calendar_feeds_are_read_by_a_calendar_and_revocable,
        calendar_feeds_through_the_api,
        the_owners_reports_have_tables_charts_and_csv,
        the_demo_week_is_staggered_with_consultations_first,
        the_diary_has_a_column_per_room,
    }
    designer {
        drag_deltas_patch_to_the_full_pattern,
        superseded_edits_and_sessions,
    }
    auth {
        wrong_password_then_rate_limited_then_logout_revokes,
        csrf_on_cookie_sessions,
        roles_are_enforced,
    }
    landmarks {
        detect_save_and_read_back,
        no_face_is_a_clear_422,
    }
    isolation {
        another_clinic_finds_nothing,
        malformed_ids_are_not_found,
    }
    records {
        printed_plan_holds_and_replan_lists_differences,
        bad_replans_name_the_field_and_change_nothing,
    }
    shapes {
        record_answers_fit_the_document,
    }
    rights {
        archive_erasure_export_import_reports,
        studio_data_rights_pages,
    }
    limits {
        forwarded_for_is_believed_from_trusted_proxies_only,
        the_owner_is_not_locked_out_by_a_stranger,
        pages_and_answers_carry_the_security_headers,
        a_retried_post_with_an_idempotency_key_makes_one_record,
    }
    fuzz {
        malformed_json_is_refused_and_changes_nothing,
        malformed_photos_are_refused_and_change_nothing,
        bodies_over_the_json_limit,
        odd_query_strings_are_answered,
    }
}
