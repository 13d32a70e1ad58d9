//! Payments at the desk and their receipts (issues 14 and 15), through the studio's and the
//! portal's routes and a real SMTP conversation: the front desk takes the quote's deposit, the
//! client receives the receipt as a PDF (read back with `pdftotext`) that is byte for byte the
//! one the clinic keeps; a balance recorded as due is taken later; a mistake is refused by
//! field with nothing saved; the client reads the same receipt in their pages and cannot open
//! another client's.

use axum::http::{Method, StatusCode};
use follicle_store::{PaymentKind, PaymentState, Store};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::mail_catcher::{
    MailCatcher, as_client, attached_pdf, cookie, csrf, drain, mails_to, post_form, text,
};
use crate::portal::pdftotext;
use crate::support::{App, Auth, Backend, Demo, TestStore, id_of};

both_stores!(
    the_desk_takes_payments_and_the_client_gets_the_same_receipt,
    the_api_takes_settles_cancels_and_refunds,
);

/// A client of the demo clinic signed in to their portal (their portal cookie).
async fn signed_in(store: &Store, clinic_id: Uuid, client_id: Uuid) -> String {
    let (token, _) = store
        .issue_portal_link(clinic_id, client_id, time::Duration::minutes(30), 5)
        .await
        .unwrap()
        .unwrap();
    store
        .redeem_portal_link(token.as_str(), time::Duration::days(1), "PortalTest/1.0")
        .await
        .unwrap()
        .unwrap()
        .token
        .as_str()
        .to_owned()
}

fn field_value<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &html[at..];
    let v = rest.find("value=\"").expect("a value") + 7;
    let end = rest[v..].find('"').unwrap();
    &rest[v..v + end]
}

async fn the_desk_takes_payments_and_the_client_gets_the_same_receipt(test: &TestStore, backend: Backend) {
    let smtp = MailCatcher::start();
    let config = smtp.config();
    let app = App::with_config(&test.store, backend, config.clone());
    let demo = Demo::seed(&app).await;
    let store = &test.store;
    let owner = store.actor(demo.owner_id).await.unwrap();
    let clients = demo.consented_clients().await;
    let (client, other): (&Value, &Value) = (&clients[0], &clients[1]);
    let client_id = id_of(client);
    let email = client["email"].as_str().unwrap();
    let name = client["name"].as_str().unwrap();
    let (number, quote) = store
        .latest_quote(&owner, client_id)
        .await
        .unwrap()
        .expect("the demo client has a quote");
    let deposit = quote.deposit.expect("a bookable quote has a deposit");
    let desk = cookie(&demo.front_desk);
    let path = format!("/clients/{client_id}/payments");

    // The page: the quote, and the form prefilled with its deposit.
    let page = app.get(&path, &desk).await;
    assert_eq!(page.status, StatusCode::OK, "{}", text(&page));
    let html = text(&page);
    assert!(html.contains(&follicle_web::wire::quote_label(number)), "{html}");
    assert_eq!(field_value(&html, "amount"), deposit.to_string());
    assert!(html.contains("No payment recorded yet."));

    // A mistake is shown beside its field, and nothing is recorded.
    let wrong = post_form(
        &app,
        &path,
        &desk,
        &[
            ("_csrf", &csrf(&desk)),
            ("kind", "deposit"),
            ("amount", "three hundred"),
            ("method", "card"),
            ("towards_quote", "on"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&wrong).contains("expected an amount such as 300 or 249.50, got &#34;three hundred&#34;"),
        "{}",
        text(&wrong)
    );
    let wrong = post_form(
        &app,
        &path,
        &desk,
        &[
            ("_csrf", &csrf(&desk)),
            ("kind", "gift"),
            ("amount", "10"),
            ("method", "card"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&wrong).contains("choose what the payment is for"),
        "{}",
        text(&wrong)
    );
    assert!(store.client_payments(&owner, client_id).await.unwrap().is_empty());

    // The deposit, by card, with the receipt by email.
    let taken = post_form(
        &app,
        &path,
        &desk,
        &[
            ("_csrf", &csrf(&desk)),
            ("kind", "deposit"),
            ("amount", &deposit.to_string()),
            ("method", "card"),
            ("towards_quote", "on"),
            ("email_receipt", "on"),
        ],
    )
    .await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", text(&taken));
    let payments = store.client_payments(&owner, client_id).await.unwrap();
    assert_eq!(payments.len(), 1);
    let deposit_payment = payments[0].clone();
    assert_eq!(deposit_payment.kind, PaymentKind::Deposit);
    assert_eq!(deposit_payment.amount, deposit * 100);
    assert_eq!(deposit_payment.quote_number, Some(number));
    drain(store, &config).await;
    let mails: Vec<String> = mails_to(&smtp, email)
        .into_iter()
        .filter(|m| m.contains("Your receipt R-00001"))
        .collect();
    assert_eq!(mails.len(), 1, "one receipt mail");
    let mailed = attached_pdf(&mails[0]);
    let words = pdftotext(&mailed);
    let money = |n: i64| follicle_web::wire::money(&quote.currency, n);
    for expected in [
        "Receipt",
        "R-00001",
        name,
        "Deposit",
        &money(deposit),
        "Paid with",
        "card",
        &follicle_web::wire::quote_label(number),
        &money(quote.total),
        "Still to pay",
        &money(quote.total - deposit),
        "received with thanks",
    ] {
        assert!(
            words.contains(expected),
            "{expected:?} not in the receipt:\n{words}"
        );
    }
    // The mailed copy is the one the clinic keeps, byte for byte.
    let kept = app
        .get(&format!("/payments/{}/receipt.pdf", deposit_payment.id), &desk)
        .await;
    assert_eq!(kept.status, StatusCode::OK);
    assert_eq!(kept.body, mailed);

    // A balance recorded as due, then taken in cash: receipt 2, the quote's paid follows.
    let due = post_form(
        &app,
        &path,
        &desk,
        &[
            ("_csrf", &csrf(&desk)),
            ("kind", "session"),
            ("amount", "250.50"),
            ("method", "due"),
            ("towards_quote", "on"),
        ],
    )
    .await;
    assert_eq!(due.status, StatusCode::SEE_OTHER, "{}", text(&due));
    let due_payment = store
        .client_payments(&owner, client_id)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.state() == PaymentState::Due)
        .expect("the payment due");
    assert_eq!(
        (due_payment.state(), due_payment.amount),
        (PaymentState::Due, 25_050)
    );
    let page = text(&app.get(&path, &desk).await);
    assert!(page.contains("Take it now"), "{page}");
    let settled = post_form(
        &app,
        &format!("/payments/{}/settle", due_payment.id),
        &desk,
        &[("_csrf", &csrf(&desk)), ("method", "cash")],
    )
    .await;
    assert_eq!(settled.status, StatusCode::SEE_OTHER, "{}", text(&settled));
    let page = text(&app.get(&path, &desk).await);
    assert!(page.contains("R-00002"), "{page}");
    let paid = format!("{}.50", money(deposit + 250));
    assert!(page.contains(&paid), "{paid} paid so far in {page}");
    // Taken twice: refused with the reason, nothing changes.
    let again = post_form(
        &app,
        &format!("/payments/{}/settle", due_payment.id),
        &desk,
        &[("_csrf", &csrf(&desk)), ("method", "card")],
    )
    .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&again).contains("this payment was taken already"));
    // A refund of more than was paid is refused.
    let refund = post_form(
        &app,
        &path,
        &desk,
        &[
            ("_csrf", &csrf(&desk)),
            ("kind", "refund"),
            ("amount", "100000"),
            ("method", "card"),
        ],
    )
    .await;
    assert_eq!(refund.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&refund).contains("is more than the"), "{}", text(&refund));

    // The client's record shows the payments taken, each with its receipt.
    let record = text(&app.get(&format!("/clients/{client_id}"), &desk).await);
    assert!(
        record.contains("Deposit taken") && record.contains("Receipt R-00001"),
        "{record}"
    );
    assert!(record.contains(&format!("/payments/{}/receipt.pdf", deposit_payment.id)));

    // The visit page links to the payments.
    let visits = store.client_appointments(&owner, client_id).await.unwrap();
    if let Some(v) = visits.first() {
        let page = text(&app.get(&format!("/appointments/{}", v.id), &desk).await);
        assert!(page.contains("Take a payment for this visit"), "{page}");
    }

    // The client reads the same receipt in their pages; another client cannot open it.
    let mine = signed_in(store, owner.clinic_id(), client_id).await;
    let home = as_client(&app, Method::GET, "/portal", &mine, &[]).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(text(&home).contains("R-00001") && text(&home).contains("R-00002"));
    let page = as_client(
        &app,
        Method::GET,
        &format!("/portal/receipts/{}", deposit_payment.id),
        &mine,
        &[],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    for expected in ["R-00001", name, "Still to pay", "received with thanks"] {
        assert!(
            text(&page).contains(expected),
            "{expected:?} not in {}",
            text(&page)
        );
    }
    let pdf = as_client(
        &app,
        Method::GET,
        &format!("/portal/receipts/{}/pdf", deposit_payment.id),
        &mine,
        &[],
    )
    .await;
    assert_eq!((pdf.status, &pdf.body), (StatusCode::OK, &mailed));
    let theirs = signed_in(store, owner.clinic_id(), id_of(other)).await;
    for path in [
        format!("/portal/receipts/{}", deposit_payment.id),
        format!("/portal/receipts/{}/pdf", deposit_payment.id),
    ] {
        let answer = as_client(&app, Method::GET, &path, &theirs, &[]).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!text(&answer).contains(name), "{path}");
    }
}

/// The API's payments: the same rules as the desk's page, by field.
async fn the_api_takes_settles_cancels_and_refunds(test: &TestStore, backend: Backend) {
    let app = App::new(&test.store, backend);
    let demo = Demo::seed(&app).await;
    let client = demo.consented_clients().await[0].clone();
    let path = format!("/api/v1/clients/{}/payments", id_of(&client));
    let desk: &Auth = &demo.front_desk;

    let deposit = app
        .post(
            &path,
            desk,
            json!({"kind": "deposit", "amount_minor": 7_000, "method": "card"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(deposit["state"], "paid");
    assert_eq!(deposit["receipt"], "R-00001");
    assert!(deposit["quote"].as_str().unwrap().starts_with("Q-"), "{deposit}");
    let receipt = app
        .get(
            &format!("/api/v1/payments/{}/receipt", deposit["id"].as_str().unwrap()),
            desk,
        )
        .await;
    assert_eq!(receipt.status, StatusCode::OK);
    assert_eq!(receipt.content_type(), "application/pdf");
    assert!(pdftotext(&receipt.body).contains("R-00001"));

    // Due, then taken: the next receipt; taken twice is refused.
    let due = app
        .post(&path, desk, json!({"kind": "session", "amount_minor": 25_050}))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(
        (due["state"].as_str(), due["receipt"].is_null()),
        (Some("due"), true)
    );
    let due_id = due["id"].as_str().unwrap();
    app.get(&format!("/api/v1/payments/{due_id}/receipt"), desk)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let settled = app
        .post(
            &format!("/api/v1/payments/{due_id}/settle"),
            desk,
            json!({"method": "cash"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (settled["receipt"].as_str(), settled["method"].as_str()),
        (Some("R-00002"), Some("cash"))
    );
    let again = app
        .post(
            &format!("/api/v1/payments/{due_id}/settle"),
            desk,
            json!({"method": "card"}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(again["field"], "payment");

    // Cancelled with a reason; not without one.
    let waived = app
        .post(
            &path,
            desk,
            json!({"kind": "other", "amount_minor": 500, "towards_quote": false}),
        )
        .await
        .expect(StatusCode::CREATED);
    let waived_id = waived["id"].as_str().unwrap();
    let no_reason = app
        .post(
            &format!("/api/v1/payments/{waived_id}/cancel"),
            desk,
            json!({"reason": " "}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(no_reason["field"], "reason");
    let cancelled = app
        .post(
            &format!("/api/v1/payments/{waived_id}/cancel"),
            desk,
            json!({"reason": "waived"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(cancelled["state"], "cancelled");

    // Mistakes by field; nothing recorded.
    for (body, field) in [
        (
            json!({"kind": "deposit", "amount_minor": 0, "method": "card"}),
            "amount",
        ),
        (
            json!({"kind": "refund", "amount_minor": 1_000_000, "method": "card"}),
            "amount",
        ),
        (json!({"kind": "refund", "amount_minor": 100}), "method"),
        (
            json!({"kind": "other", "amount_minor": 100, "method": "card", "appointment_id": Uuid::new_v4()}),
            "appointment",
        ),
    ] {
        let error = app
            .post(&path, desk, body.clone())
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field, "{body}: {error}");
    }
    let listed = app.get(&path, desk).await.expect(StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");

    // A refund within what was paid: its own receipt.
    let refund = app
        .post(
            &path,
            desk,
            json!({"kind": "refund", "amount_minor": 1_000, "method": "card"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(refund["receipt"], "R-00003");

    // Another clinic finds none of it.
    let (other, _) = app.other_clinic("Elsewhere").await;
    app.get(&path, &other)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.get(&format!("/api/v1/payments/{due_id}/receipt"), &other)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}
