//! Payments and receipts (issues 14 and 15) on both backends: a deposit and a balance taken
//! towards the quote with receipts numbered without gaps, a payment recorded as due then taken
//! or cancelled, refunds bounded by what was paid, every mistake refused by field, a receipt
//! that the database refuses to change, the owner's report counting what was taken, and each
//! client seeing only their own receipts.

use follicle_store::*;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::contract::{consultation, new_sam};
use crate::support::clinic;

fn issuer() -> ReceiptIssuer {
    ReceiptIssuer {
        clinic: "Northside SMP".into(),
        lines: vec!["1 High Street".into()],
    }
}

/// A stand-in for the PDF writer: the receipt's number and amount as bytes, so the test can
/// tell which receipt a stored file is.
fn render(r: &Receipt) -> Result<Vec<u8>, String> {
    Ok(format!("%PDF-receipt {} {}", r.number, r.amount).into_bytes())
}

fn invalid<T: std::fmt::Debug>(r: StoreResult<T>) -> (&'static str, String) {
    match r {
        Err(StoreError::Invalid { field, message }) => (field, message),
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn payments_are_taken_with_receipts_that_hold(store: &Store) {
    let c = clinic(store, "Payments").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let (consult, _) = store
        .add_consultation(&c.practitioner, &consultation(sam.id, "V"), None)
        .await
        .unwrap();
    let quote = consult.plan.quote.clone().unwrap();
    let number = consult.quote_number.unwrap();
    let deposit = quote.deposit.unwrap() * 100;
    let total = quote.total * 100;
    let visit = store
        .book_appointment(
            &c.front_desk,
            &NewAppointment {
                client_id: sam.id,
                practitioner_id: Some(c.practitioner.user_id()),
                starts_at: time::macros::datetime!(2027-02-01 10:00 UTC),
                duration_minutes: 180,
                notes: String::new(),
            },
        )
        .await
        .unwrap();

    // The desk sees the quote's money, not the clinical record.
    let (seen_number, seen) = store
        .latest_quote(&c.front_desk, sam.id)
        .await
        .unwrap()
        .expect("the consultation's quote");
    assert_eq!((seen_number, seen.total), (number, quote.total));

    let new = |kind, amount, paid| NewPayment {
        client_id: sam.id,
        appointment_id: Some(visit.id),
        kind,
        amount,
        currency: quote.currency.clone(),
        quote: Some((number, total)),
        note: String::new(),
        paid,
    };

    // The deposit, by card: receipt 1, counted towards the quote.
    let taken = store
        .take_payment(
            &c.front_desk,
            &new(PaymentKind::Deposit, deposit, Some(PaymentMethod::Card)),
            &issuer(),
            render,
        )
        .await
        .unwrap();
    assert_eq!(taken.state(), PaymentState::Paid);
    let receipt = taken.receipt.clone().expect("a receipt");
    assert_eq!(receipt.number, 1);
    assert_eq!(receipt_label(receipt.number), "R-00001");
    assert_eq!(receipt.client_name, sam.name);
    assert_eq!(receipt.issuer, issuer());
    assert_eq!(receipt.visit, Some(visit.starts_at));
    assert_eq!(receipt.quote_total, Some(total));
    assert_eq!(receipt.paid_towards_quote, Some(deposit));
    assert_eq!(receipt.taken_by, "desk of Payments");
    let (stored, pdf) = store.receipt_pdf(&c.owner, taken.id).await.unwrap();
    assert_eq!(pdf, format!("%PDF-receipt 1 {deposit}").into_bytes());
    assert_eq!(stored.receipt_sha256, Some(hex(&pdf)));
    assert_eq!(stored.receipt, Some(receipt));

    // A balance recorded as due has no receipt until it is taken.
    let due = store
        .take_payment(
            &c.front_desk,
            &new(PaymentKind::Session, 50_000, None),
            &issuer(),
            |_: &Receipt| -> Result<Vec<u8>, String> { panic!("no receipt for a payment due") },
        )
        .await
        .unwrap();
    assert_eq!((due.state(), due.receipt.is_none()), (PaymentState::Due, true));
    assert!(matches!(
        store.receipt_pdf(&c.owner, due.id).await,
        Err(StoreError::NotFound { what: "receipt" })
    ));
    // The Today page's "due" beside the client's visits.
    let owed = store.due_payments(&c.front_desk, &[sam.id]).await.unwrap();
    assert_eq!(owed.get(&sam.id), Some(&vec![(quote.currency.clone(), 50_000)]));
    let settled = store
        .settle_payment(&c.front_desk, due.id, PaymentMethod::Cash, &issuer(), render)
        .await
        .unwrap();
    let second = settled.receipt.clone().unwrap();
    assert_eq!(second.number, 2, "numbers run without gaps");
    assert_eq!(second.method, PaymentMethod::Cash);
    assert_eq!(second.paid_towards_quote, Some(deposit + 50_000));
    assert_eq!(
        invalid(
            store
                .settle_payment(&c.front_desk, due.id, PaymentMethod::Card, &issuer(), render)
                .await
        ),
        ("payment", "this payment was taken already".to_owned())
    );
    assert_eq!(
        invalid(store.cancel_payment(&c.front_desk, taken.id, "mistake").await).0,
        "payment"
    );

    // A due payment cancelled, with its reason; a second cancel is refused.
    let waived = store
        .take_payment(&c.owner, &new(PaymentKind::Other, 2_500, None), &issuer(), render)
        .await
        .unwrap();
    assert_eq!(
        invalid(store.cancel_payment(&c.front_desk, waived.id, "  ").await).0,
        "reason"
    );
    let cancelled = store
        .cancel_payment(&c.front_desk, waived.id, "waived by the owner")
        .await
        .unwrap();
    assert_eq!(cancelled.state(), PaymentState::Cancelled);
    assert!(
        store
            .due_payments(&c.front_desk, &[sam.id])
            .await
            .unwrap()
            .is_empty(),
        "nothing due once taken or cancelled"
    );
    assert_eq!(
        invalid(store.cancel_payment(&c.front_desk, waived.id, "again").await).0,
        "payment"
    );

    // Mistakes, each by its field; nothing is recorded.
    let before = store.client_payments(&c.owner, sam.id).await.unwrap().len();
    let mut wrong = new(PaymentKind::Deposit, 0, Some(PaymentMethod::Card));
    assert_eq!(
        invalid(store.take_payment(&c.front_desk, &wrong, &issuer(), render).await).0,
        "amount"
    );
    wrong.amount = 100;
    wrong.currency = "pounds".into();
    assert_eq!(
        invalid(store.take_payment(&c.front_desk, &wrong, &issuer(), render).await).0,
        "currency"
    );
    wrong.currency = quote.currency.clone();
    wrong.quote = Some((number + 1000, total));
    assert_eq!(
        invalid(store.take_payment(&c.front_desk, &wrong, &issuer(), render).await).0,
        "quote"
    );
    let ben = store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: "Ben Moss".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    wrong.quote = None;
    wrong.client_id = ben.id;
    assert_eq!(
        invalid(store.take_payment(&c.front_desk, &wrong, &issuer(), render).await),
        ("appointment", "not one of this client's visits".to_owned())
    );
    // A refund of more than was paid, and a refund not given yet.
    let paid_so_far = deposit + 50_000;
    let mut refund = new(PaymentKind::Refund, paid_so_far + 1, Some(PaymentMethod::Card));
    let (field, message) = invalid(
        store
            .take_payment(&c.front_desk, &refund, &issuer(), render)
            .await,
    );
    assert_eq!(field, "amount");
    assert!(message.contains("is more than the"), "{message}");
    refund.paid = None;
    assert_eq!(
        invalid(
            store
                .take_payment(&c.front_desk, &refund, &issuer(), render)
                .await
        )
        .0,
        "method"
    );
    assert_eq!(
        store.client_payments(&c.owner, sam.id).await.unwrap().len(),
        before
    );

    // A refund is a payment of its own, with the next receipt; the quote's paid goes down.
    refund.amount = 10_000;
    refund.paid = Some(PaymentMethod::Card);
    let back = store
        .take_payment(&c.front_desk, &refund, &issuer(), render)
        .await
        .unwrap();
    let third = back.receipt.clone().unwrap();
    assert_eq!(third.number, 3);
    assert_eq!(third.paid_towards_quote, Some(paid_so_far - 10_000));
    assert_eq!(back.taken(), -10_000);

    // The database refuses to change a payment with a receipt; a due one may still change.
    let refused = follicle_store::testing::try_to_change_payment(store, taken.id).await;
    assert!(
        refused.as_deref().is_some_and(|e| e.contains("never changed")),
        "{refused:?}"
    );
    assert_eq!(store.payment(&c.owner, taken.id).await.unwrap().amount, deposit);

    // The visit's page lists its payments; the client's list has them all, latest first.
    let of_visit = store.appointment_payments(&c.front_desk, visit.id).await.unwrap();
    assert_eq!(of_visit.len(), 4);
    let all = store.client_payments(&c.front_desk, sam.id).await.unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|w| w[0].recorded_at >= w[1].recorded_at));
    // Audited, by who took them.
    let trail = store.audit_log(&c.owner, sam.id).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.detail.starts_with("payment recorded: deposit") && e.user_id == c.front_desk.user_id()),
        "{trail:?}"
    );

    // The owner's report: what was taken this month, refunds off; the deposit is not outstanding.
    let today = OffsetDateTime::now_utc().date();
    let report = store.owner_report(&c.owner, today, 1).await.unwrap();
    assert_eq!(report.currency, quote.currency);
    assert_eq!(report.months[0].taken, paid_so_far - 10_000);
    assert!(
        report.deposits.iter().all(|d| d.client_id != sam.id),
        "a deposit taken is not outstanding"
    );

    // Another clinic finds none of it.
    let other = clinic(store, "Other payments").await;
    assert!(matches!(
        store.payment(&other.owner, taken.id).await,
        Err(StoreError::NotFound { what: "payment" })
    ));
    assert!(matches!(
        store.client_payments(&other.owner, sam.id).await,
        Err(StoreError::NotFound { what: "client" })
    ));

    // The client sees their own payments (not the cancelled one) and receipts; another
    // client's receipt is not found for them.
    let me = crate::portal::signed_in(store, c.owner.clinic_id(), sam.id).await;
    let own = store.own_payments(&me).await.unwrap();
    assert_eq!(own.len(), 3);
    assert!(own.iter().all(|p| p.state() == PaymentState::Paid));
    let (mine, bytes) = store.own_receipt(&me, taken.id).await.unwrap();
    assert_eq!((mine.number, bytes), (1, pdf));
    let ben_paid = store
        .take_payment(
            &c.front_desk,
            &NewPayment {
                client_id: ben.id,
                appointment_id: None,
                kind: PaymentKind::Other,
                amount: 1_000,
                currency: "GBP".into(),
                quote: None,
                note: "aftercare balm".into(),
                paid: Some(PaymentMethod::Cash),
            },
            &issuer(),
            render,
        )
        .await
        .unwrap();
    assert_eq!(ben_paid.receipt.as_ref().map(|r| r.number), Some(4));
    assert!(matches!(
        store.own_receipt(&me, ben_paid.id).await,
        Err(StoreError::NotFound { what: "receipt" })
    ));
}

/// Receipts taken at once from two desks (twelve payments in parallel) still get distinct numbers with no gap.
pub async fn receipt_numbers_never_repeat_under_concurrency(store: &Store) {
    let c = clinic(store, "Busy desk").await;
    let client = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let take = |actor: &Actor| {
        let actor = *actor;
        let store = store.clone();
        async move {
            store
                .take_payment(
                    &actor,
                    &NewPayment {
                        client_id: client.id,
                        appointment_id: None,
                        kind: PaymentKind::Other,
                        amount: 500,
                        currency: "GBP".into(),
                        quote: None,
                        note: String::new(),
                        paid: Some(PaymentMethod::Cash),
                    },
                    &issuer(),
                    render,
                )
                .await
        }
    };
    let mut tasks = Vec::new();
    for i in 0..12 {
        let actor = if i % 2 == 0 { &c.front_desk } else { &c.owner };
        tasks.push(tokio::spawn(take(actor)));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap().unwrap().receipt.unwrap().number);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=12).collect::<Vec<i64>>());
}
