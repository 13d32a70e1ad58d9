//! Pigments: products, batches and stock, and a batch's recall view.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use follicle_store::{
    NewPigmentBatch, NewPigmentProduct, PigmentBatch, PigmentProduct, RecallEntry, StoreError,
};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::reports::csv_download;
use super::today::day;
use super::{FieldErrors, Nav, Page, PageError, PageResult, render, render_status};
use crate::extract::{Id, QueryArgs};
use crate::state::AppState;

/// A batch row.
#[derive(Debug)]
pub struct BatchRow {
    /// The batch.
    pub batch: PigmentBatch,
    /// Its product's name.
    pub product: String,
    /// "1 Jan 2027".
    pub expires: String,
    /// Expired today or earlier.
    pub expired: bool,
}

impl BatchRow {
    /// A batch with its product's name (from `products`) and whether it is past its expiry on
    /// `today`.
    fn new(batch: PigmentBatch, products: &[PigmentProduct], today: time::Date) -> BatchRow {
        BatchRow {
            product: products
                .iter()
                .find(|p| p.id == batch.product_id)
                .map_or("?".into(), |p| p.name.clone()),
            expires: day(batch.expires_on),
            expired: batch.expires_on <= today,
            batch,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ProductForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    maker: String,
    #[serde(default)]
    ingredients: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct BatchForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    lot: String,
    #[serde(default)]
    expires_on: String,
    #[serde(default)]
    quantity: String,
}

#[derive(Template)]
#[template(path = "pigments.html")]
struct PigmentsPage {
    nav: Nav,
    products: Vec<PigmentProduct>,
    batches: Vec<BatchRow>,
    product_form: ProductForm,
    batch_form: BatchForm,
    errors: FieldErrors,
}

async fn show(
    state: &AppState,
    page: &Page,
    product_form: ProductForm,
    batch_form: BatchForm,
    errors: FieldErrors,
) -> PageResult {
    let products = state.store().pigment_products(&page.actor).await?;
    let today = OffsetDateTime::now_utc().date();
    let batches = state
        .store()
        .pigment_batches(&page.actor)
        .await?
        .into_iter()
        .map(|b| BatchRow::new(b, &products, today))
        .collect();
    let status = errors.status();
    render_status(
        status,
        &PigmentsPage {
            nav: Nav::new(page, "pigments"),
            products,
            batches,
            product_form,
            batch_form,
            errors,
        },
    )
}

pub(super) async fn page(State(state): State<AppState>, page: Page) -> PageResult {
    show(
        &state,
        &page,
        ProductForm::default(),
        BatchForm::default(),
        FieldErrors::default(),
    )
    .await
}

pub(super) async fn add_product(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<ProductForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let new = NewPigmentProduct {
        name: form.name.clone(),
        maker: form.maker.clone(),
        ingredients: form.ingredients.clone(),
    };
    let mut errors = FieldErrors::default();
    match state.store().add_pigment_product(&page.actor, &new).await {
        Ok(_) => return Ok(Redirect::to("/pigments").into_response()),
        Err(StoreError::Invalid { field, message }) => errors.add(format!("product.{field}"), message),
        Err(StoreError::Conflict { message }) => errors.add("product.name", message),
        Err(e) => return Err(e.into()),
    }
    show(&state, &page, form, BatchForm::default(), errors).await
}

pub(super) async fn add_batch(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<BatchForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let mut errors = FieldErrors::default();
    let product_id = Uuid::parse_str(&form.product_id)
        .map_err(|_| errors.add("batch.product_id", "choose a product"))
        .ok();
    let expires_on = follicle_core::profile::parse_date(form.expires_on.trim())
        .map_err(|e| errors.add("batch.expires_on", e))
        .ok();
    let quantity = form
        .quantity
        .trim()
        .parse::<i64>()
        .map_err(|_| {
            errors.add(
                "batch.quantity",
                format!("expected a whole number of units, got {:?}", form.quantity),
            )
        })
        .ok();
    if let (Some(product_id), Some(expires_on), Some(quantity)) = (product_id, expires_on, quantity) {
        let new = NewPigmentBatch {
            product_id,
            lot: form.lot.clone(),
            expires_on,
            quantity,
        };
        match state.store().add_pigment_batch(&page.actor, &new).await {
            Ok(_) => return Ok(Redirect::to("/pigments").into_response()),
            Err(StoreError::Invalid { field, message }) => errors.add(format!("batch.{field}"), message),
            Err(StoreError::Conflict { message }) => errors.add("batch.lot", message),
            Err(StoreError::NotFound { .. }) => {
                errors.add("batch.product_id", "no such product in this clinic")
            }
            Err(e) => return Err(e.into()),
        }
    }
    show(&state, &page, ProductForm::default(), form, errors).await
}

#[derive(Template)]
#[template(path = "recall.html")]
struct RecallPage {
    nav: Nav,
    row: BatchRow,
    entries: Vec<(String, RecallEntry)>,
    /// Sessions and clients on every page.
    sessions: i64,
    clients: i64,
    /// This page is not the first.
    later: bool,
    /// The next page's cursor.
    next: Option<String>,
}

/// Sessions a page of the recall view.
const RECALL_PAGE: i64 = 100;

#[derive(Debug, Default, Deserialize)]
pub(super) struct RecallQuery {
    /// The page after this cursor.
    #[serde(default)]
    after: Option<String>,
}

/// `GET /pigments/batches/{id}`: the batch and its recall, a page at a time.
pub(super) async fn recall(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    QueryArgs(q): QueryArgs<RecallQuery>,
) -> PageResult {
    let recall = state
        .store()
        .recall_page(&page.actor, id, q.after.as_deref(), RECALL_PAGE)
        .await?;
    let products = state.store().pigment_products(&page.actor).await?;
    render(&RecallPage {
        nav: Nav::new(&page, "pigments"),
        row: BatchRow::new(recall.batch, &products, OffsetDateTime::now_utc().date()),
        entries: recall
            .entries
            .into_iter()
            .map(|e| (day(e.performed_on), e))
            .collect(),
        sessions: recall.sessions,
        clients: recall.clients,
        later: q.after.is_some(),
        next: recall.next,
    })
}

/// `GET /pigments/batches/{id}/recall.csv`: the whole recall, to call or write to everyone.
pub(super) async fn recall_csv(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
) -> Result<Response, PageError> {
    let batch = state.store().pigment_batch(&page.actor, id).await?;
    let entries = state.store().recall(&page.actor, id).await?;
    let lot: String = batch
        .lot
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(csv_download(
        &format!("recall-{lot}"),
        &["client", "session", "phone", "email"],
        entries
            .into_iter()
            .map(|e| vec![e.client_name, e.performed_on.to_string(), e.phone, e.email]),
    ))
}
