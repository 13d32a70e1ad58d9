//! A clinic's data, portable: a client's complete record as one zip (every record, the photo
//! bytes and the audit trail, in JSON and CSV), the whole clinic as one zip, and an import of
//! clients and appointments from CSV with a dry run.
//!
//! An archive holds:
//!
//! ```text
//! README.txt            what is inside
//! record.json           everything, in one document (JSON is the complete form)
//! csv/<table>.csv       the same, one table a file, for a spreadsheet
//! photos/<id>.<ext>     the photos' bytes, as stored (metadata already stripped)
//! ```

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::RetentionReport;
use super::records::check_client;
use super::{Store, audit_insert, now, on_db};
use crate::auth::Actor;
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::role::Action;
use crate::validate;

/// Rows an import file may hold.
pub const MAX_IMPORT_ROWS: usize = 10_000;

/// One mistake in an import file, placed by line and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowError {
    /// `clients.csv` or `appointments.csv`.
    pub file: String,
    /// The line in the file (the header is line 1).
    pub line: u64,
    /// The column's name.
    pub column: String,
    /// The value found (cut to 80 characters).
    pub value: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

/// What an import did, or on a dry run would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// True when nothing was to be saved.
    pub dry_run: bool,
    /// True when the rows were saved (never on a dry run or with any error).
    pub saved: bool,
    /// Clients read without a mistake.
    pub clients: u64,
    /// Appointments read without a mistake.
    pub appointments: u64,
    /// Every mistake, by file and line.
    pub errors: Vec<ImportRowError>,
}

/// The columns of `clients.csv`: `name` is required; `ref` is any text that names the
/// client in `appointments.csv`.
pub const CLIENT_COLUMNS: [&str; 7] = [
    "ref",
    "name",
    "date_of_birth",
    "age_years",
    "phone",
    "email",
    "notes",
];
/// The columns of `appointments.csv`: a client by `client_ref` (from clients.csv) or
/// `client_email` (a client already in the clinic), `starts_at` and `duration_minutes`
/// required.
pub const APPOINTMENT_COLUMNS: [&str; 6] = [
    "client_ref",
    "client_email",
    "starts_at",
    "duration_minutes",
    "status",
    "notes",
];

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The CSV tables of an archive, filled record by record.
#[derive(Default)]
struct Tables(BTreeMap<&'static str, csv::Writer<Vec<u8>>>);

impl Tables {
    fn row(&mut self, table: &'static str, header: &[&str], row: &[String]) -> StoreResult<()> {
        let writer = match self.0.entry(table) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let mut w = csv::Writer::from_writer(Vec::new());
                w.write_record(header).map_err(csv_error)?;
                e.insert(w)
            }
        };
        writer.write_record(row).map_err(csv_error)
    }

    fn client(&mut self, export: &ClientExport, photos: &[(Photo, String)]) -> StoreResult<()> {
        let c = &export.client;
        self.row(
            "clients",
            &[
                "id",
                "name",
                "date_of_birth",
                "age_years",
                "phone",
                "email",
                "notes",
                "created_at",
                "updated_at",
            ],
            &[
                c.id.to_string(),
                c.name.clone(),
                opt(c.date_of_birth),
                opt(c.age_years),
                c.phone.clone(),
                c.email.clone(),
                c.notes.clone(),
                rfc3339(c.created_at),
                rfc3339(c.updated_at),
            ],
        )?;
        for v in &export.consultations {
            self.row(
                "consultations",
                &[
                    "id",
                    "client_id",
                    "version",
                    "created_at",
                    "created_by",
                    "verdict",
                    "sessions",
                    "quote_number",
                    "profile_toml",
                ],
                &[
                    v.id.to_string(),
                    v.client_id.to_string(),
                    v.version.to_string(),
                    rfc3339(v.created_at),
                    v.created_by.to_string(),
                    v.plan.verdict.clone(),
                    v.plan.sessions.len().to_string(),
                    opt(v.quote_number),
                    v.profile_toml.clone().unwrap_or_default(),
                ],
            )?;
        }
        for d in &export.designs {
            self.row(
                "designs",
                &[
                    "id",
                    "client_id",
                    "version",
                    "consultation_id",
                    "seed",
                    "notes",
                    "created_at",
                    "created_by",
                ],
                &[
                    d.id.to_string(),
                    d.client_id.to_string(),
                    d.version.to_string(),
                    opt(d.consultation_id),
                    d.seed.to_string(),
                    d.notes.clone(),
                    rfc3339(d.created_at),
                    d.created_by.to_string(),
                ],
            )?;
        }
        for a in &export.appointments {
            self.row(
                "appointments",
                &[
                    "id",
                    "client_id",
                    "practitioner_id",
                    "starts_at",
                    "duration_minutes",
                    "status",
                    "kind",
                    "room",
                    "notes",
                    "created_at",
                ],
                &[
                    a.id.to_string(),
                    a.client_id.to_string(),
                    opt(a.practitioner_id),
                    rfc3339(a.starts_at),
                    a.duration_minutes.to_string(),
                    a.status.to_string(),
                    a.kind.as_str().to_owned(),
                    a.room.clone().unwrap_or_default(),
                    a.notes.clone(),
                    rfc3339(a.created_at),
                ],
            )?;
        }
        for s in &export.sessions {
            let zones: Vec<&str> = s.zones.iter().map(|z| z.as_str()).collect();
            self.row(
                "session_logs",
                &[
                    "id",
                    "client_id",
                    "appointment_id",
                    "performed_on",
                    "practitioner_id",
                    "zones",
                    "batch_id",
                    "dilution",
                    "needle",
                    "needle_lot",
                    "depth_mm",
                    "machine_settings",
                    "duration_minutes",
                    "anaesthetic",
                    "notes",
                    "created_at",
                ],
                &[
                    s.id.to_string(),
                    s.client_id.to_string(),
                    opt(s.appointment_id),
                    s.performed_on.to_string(),
                    s.practitioner_id.to_string(),
                    zones.join(" "),
                    s.batch_id.to_string(),
                    s.dilution.to_string(),
                    s.needle.clone(),
                    s.needle_lot.clone(),
                    s.depth_mm.to_string(),
                    s.machine_settings.clone(),
                    s.duration_minutes.to_string(),
                    s.anaesthetic.clone(),
                    s.notes.clone(),
                    rfc3339(s.created_at),
                ],
            )?;
        }
        for c in &export.consents {
            self.row(
                "consents",
                &[
                    "id",
                    "client_id",
                    "kind",
                    "template_version",
                    "text",
                    "signed_by",
                    "signed_at",
                    "recorded_by",
                ],
                &[
                    c.id.to_string(),
                    c.client_id.to_string(),
                    c.kind.to_string(),
                    c.template_version.clone(),
                    c.text.clone(),
                    c.signed_by.clone(),
                    rfc3339(c.signed_at),
                    c.recorded_by.to_string(),
                ],
            )?;
        }
        for c in &export.signed_consents {
            let w = c.withdrawal.as_ref();
            self.row(
                "signed_consents",
                &[
                    "id",
                    "client_id",
                    "kind",
                    "template_version",
                    "title",
                    "text",
                    "design_id",
                    "design_version",
                    "quote_number",
                    "signer_name",
                    "signature",
                    "signature_method",
                    "signed_at",
                    "signed_in",
                    "witnessed_by",
                    "address",
                    "user_agent",
                    "document_sha256",
                    "pdf_sha256",
                    "withdrawn_at",
                    "withdrawn_by_client",
                    "withdrawal_recorded_by",
                    "withdrawal_reason",
                ],
                &[
                    c.id.to_string(),
                    c.signed.client_id.to_string(),
                    c.signed.kind.as_str().to_owned(),
                    c.signed.template_version.clone(),
                    c.signed.title.clone(),
                    c.signed.text.clone(),
                    opt(c.signed.design_id),
                    c.signed.design_version.map(|v| v.to_string()).unwrap_or_default(),
                    c.signed.quote_number.clone(),
                    c.signed.signer_name.clone(),
                    c.signed.signature.clone(),
                    c.signed.method().as_str().to_owned(),
                    rfc3339(c.signed.signed_at),
                    c.signed.signed_in.as_str().to_owned(),
                    opt(c.witnessed_by),
                    c.signed.address.clone(),
                    c.signed.user_agent.clone(),
                    c.document_sha256.clone(),
                    c.pdf_sha256.clone(),
                    w.map(|w| rfc3339(w.at)).unwrap_or_default(),
                    w.map(|w| w.by_client.to_string()).unwrap_or_default(),
                    opt(w.and_then(|w| w.recorded_by)),
                    w.map(|w| w.reason.clone()).unwrap_or_default(),
                ],
            )?;
        }
        for i in &export.intakes {
            self.row(
                "intakes",
                &[
                    "id",
                    "client_id",
                    "conditions",
                    "medications",
                    "allergies",
                    "notes",
                    "submitted_at",
                ],
                &[
                    i.id.to_string(),
                    export.client.id.to_string(),
                    i.answers.conditions.join(" "),
                    i.answers.medications.join(" "),
                    i.answers.allergies.clone(),
                    i.answers.notes.clone(),
                    rfc3339(i.submitted_at),
                ],
            )?;
        }
        for m in &export.move_requests {
            self.row(
                "move_requests",
                &[
                    "id",
                    "client_id",
                    "appointment_id",
                    "suits",
                    "preferred_days",
                    "asked_at",
                    "closed_at",
                    "closed_how",
                    "closed_by",
                ],
                &[
                    m.id.to_string(),
                    m.client_id.to_string(),
                    m.appointment_id.to_string(),
                    m.suits.clone(),
                    m.preferred_days
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                    rfc3339(m.asked_at),
                    m.closed_at.map(rfc3339).unwrap_or_default(),
                    m.closed_how.map(|h| h.as_str().to_owned()).unwrap_or_default(),
                    opt(m.closed_by),
                ],
            )?;
        }
        for p in &export.payments {
            self.row(
                "payments",
                &[
                    "id",
                    "client_id",
                    "appointment_id",
                    "kind",
                    "amount_minor",
                    "currency",
                    "quote_number",
                    "note",
                    "recorded_at",
                    "method",
                    "paid_at",
                    "receipt_number",
                    "receipt_sha256",
                    "cancelled_at",
                    "cancel_reason",
                ],
                &[
                    p.id.to_string(),
                    p.client_id.to_string(),
                    opt(p.appointment_id),
                    p.kind.as_str().to_owned(),
                    p.amount.to_string(),
                    p.currency.clone(),
                    p.quote_number.map(|n| n.to_string()).unwrap_or_default(),
                    p.note.clone(),
                    rfc3339(p.recorded_at),
                    p.method.map(|m| m.as_str().to_owned()).unwrap_or_default(),
                    p.paid_at.map(rfc3339).unwrap_or_default(),
                    p.receipt
                        .as_ref()
                        .map(|r| crate::store::receipt_label(r.number))
                        .unwrap_or_default(),
                    p.receipt_sha256.clone().unwrap_or_default(),
                    p.cancelled_at.map(rfc3339).unwrap_or_default(),
                    p.cancel_reason.clone().unwrap_or_default(),
                ],
            )?;
        }
        for (p, file) in photos {
            self.row(
                "photos",
                &[
                    "id",
                    "client_id",
                    "file",
                    "angle",
                    "taken_at",
                    "content_type",
                    "byte_size",
                    "width",
                    "height",
                    "session_id",
                    "consent_id",
                ],
                &[
                    p.id.to_string(),
                    p.client_id.to_string(),
                    file.clone(),
                    p.angle.to_string(),
                    rfc3339(p.taken_at),
                    p.content_type.clone(),
                    p.byte_size.to_string(),
                    p.width.to_string(),
                    p.height.to_string(),
                    opt(p.session_id),
                    opt(p.consent_id),
                ],
            )?;
        }
        for m in &export.messages {
            self.row(
                "messages",
                &[
                    "id",
                    "client_id",
                    "channel",
                    "kind",
                    "recipient",
                    "subject",
                    "body",
                    "provider_id",
                    "sent_at",
                ],
                &[
                    m.id.to_string(),
                    m.client_id.to_string(),
                    m.channel.clone(),
                    m.kind.clone(),
                    m.recipient.clone(),
                    m.subject.clone(),
                    m.body.clone(),
                    m.provider_id.clone(),
                    rfc3339(m.sent_at),
                ],
            )?;
        }
        for l in &export.landmarks {
            self.row(
                "photo_landmarks",
                &["photo_id", "source", "saved_at", "saved_by", "points", "outline"],
                &[
                    l.photo_id.to_string(),
                    l.source.as_str().to_owned(),
                    rfc3339(l.saved_at),
                    l.saved_by.to_string(),
                    serde_json::to_string(&l.points).map_err(json_error)?,
                    serde_json::to_string(&l.outline).map_err(json_error)?,
                ],
            )?;
        }
        Ok(())
    }

    fn audit(&mut self, trail: &[AuditEntry]) -> StoreResult<()> {
        for e in trail {
            self.row(
                "audit_trail",
                &["id", "at", "user_id", "client_id", "action", "detail"],
                &[
                    e.id.to_string(),
                    rfc3339(e.at),
                    e.user_id.to_string(),
                    opt(e.client_id),
                    e.action.to_string(),
                    e.detail.clone(),
                ],
            )?;
        }
        Ok(())
    }
}

fn json_error(e: serde_json::Error) -> StoreError {
    StoreError::Internal(format!("export JSON: {e}"))
}

fn csv_error(e: csv::Error) -> StoreError {
    StoreError::Internal(format!("csv: {e}"))
}

fn zip_error(e: zip::result::ZipError) -> StoreError {
    StoreError::Internal(format!("zip: {e}"))
}

/// Writes an archive: README, record.json, the CSV tables, the photos.
fn archive(
    readme: &str,
    record: &impl Serialize,
    tables: Tables,
    photos: Vec<(String, Vec<u8>)>,
) -> StoreResult<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let deflated = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o600);
    // Photos are JPEG or PNG, compressed already.
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o600);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let io = |e: std::io::Error| StoreError::Internal(format!("zip: {e}"));
    zip.start_file("README.txt", deflated).map_err(zip_error)?;
    zip.write_all(readme.as_bytes()).map_err(io)?;
    zip.start_file("record.json", deflated).map_err(zip_error)?;
    let json = serde_json::to_vec_pretty(record).map_err(|e| StoreError::Internal(e.to_string()))?;
    zip.write_all(&json).map_err(io)?;
    for (name, writer) in tables.0 {
        let bytes = writer
            .into_inner()
            .map_err(|e| StoreError::Internal(format!("csv: {e}")))?;
        zip.start_file(format!("csv/{name}.csv"), deflated)
            .map_err(zip_error)?;
        zip.write_all(&bytes).map_err(io)?;
    }
    for (name, bytes) in photos {
        zip.start_file(name, stored).map_err(zip_error)?;
        zip.write_all(&bytes).map_err(io)?;
    }
    Ok(zip.finish().map_err(zip_error)?.into_inner())
}

/// A client's record in an archive: the export and the audit trail.
#[derive(Serialize)]
struct ClientRecord<'a> {
    format: u32,
    #[serde(with = "time::serde::rfc3339")]
    exported_at: OffsetDateTime,
    #[serde(flatten)]
    export: &'a ClientExport,
    audit_trail: &'a [AuditEntry],
}

/// The whole clinic in an archive.
#[derive(Serialize)]
struct ClinicRecord<'a> {
    format: u32,
    #[serde(with = "time::serde::rfc3339")]
    exported_at: OffsetDateTime,
    clinic: &'a Clinic,
    users: &'a [User],
    pigment_products: &'a [PigmentProduct],
    pigment_batches: &'a [PigmentBatch],
    clients: Vec<ClientRecord<'a>>,
    audit_log: &'a [AuditEntry],
    retention_reports: &'a [RetentionReport],
    /// Anonymised clients counted by hair-loss scale and stage.
    anonymous_statistics: Vec<AnonymousCount>,
}

/// Anonymised clients of one hair-loss scale and stage (the clinic's export).
#[derive(Serialize)]
struct AnonymousCount {
    scale: String,
    stage: String,
    clients: i64,
}

const CLIENT_README: &str = "A client's complete record from Follicle (GDPR Art. 15 and 20).\n\n\
record.json        every record: client, consultations (client file, plan and quote as issued), designs,\n\
                   appointments, session logs (pigment batch, needle, depth), consents, photo records, the\n\
                   landmarks placed on the photos, the messages sent to the client, and the audit trail (who viewed, changed or exported the\n\
                   record, and when)\n\
csv/<table>.csv    the same records, one table a file\n\
photos/<id>.<ext>  the photos, as stored (location and camera metadata were removed on upload)\n";

const CLINIC_README: &str = "A clinic's complete data from Follicle: everything needed to move to another system.\n\n\
record.json        the clinic, its settings, users (no passwords), pigment products and batches, every client's\n\
                   complete record, the clinic's audit log, the retention job's reports and the anonymous\n\
                   statistics kept of anonymised clients\n\
csv/<table>.csv    the same records, one table a file (clients, consultations, designs, appointments,\n\
                   session_logs, consents, photos, photo_landmarks, messages, users, pigment_products, pigment_batches,\n\
                   audit_trail, anonymous_statistics)\n\
photos/<id>.<ext>  every photo, as stored\n";

/// An audit row as read for an export: id, user, client, action, detail, when, address, session.
type TrailRow = (
    i64,
    Uuid,
    Option<Uuid>,
    String,
    String,
    OffsetDateTime,
    String,
    String,
);

impl Store {
    async fn trail(&self, clinic_id: Uuid, client_id: Option<Uuid>) -> StoreResult<Vec<AuditEntry>> {
        self.flush_audit().await?;
        // One client's through the index (or, on SQLite, the filings) by client; the clinic's
        // whole trail by the clinic's index.
        let sql = match client_id {
            None => {
                "SELECT id, user_id, client_id, action, detail, at, ip, session FROM audit_log \
                 WHERE clinic_id = $1 AND $2 IS NULL ORDER BY id"
            }
            Some(_) => super::filing::client_trail(&self.db),
        };
        let rows: Vec<TrailRow> = on_db!(self, pool => {
            sqlx::query_as(sql).bind(clinic_id).bind(client_id).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(id, user_id, client_id, action, detail, at, ip, session)| {
                Ok(AuditEntry {
                    id,
                    user_id,
                    client_id,
                    // An action this build does not know (added by a newer one) is kept as
                    // the nearest known word rather than failing the whole export.
                    action: AuditAction::parse(&action).unwrap_or(AuditAction::Viewed),
                    detail: if AuditAction::parse(&action).is_ok() {
                        detail
                    } else {
                        format!("{action}: {detail}")
                    },
                    at,
                    ip,
                    session,
                })
            })
            .collect()
    }

    async fn photo_files(
        &self,
        photos: &[Photo],
    ) -> StoreResult<(Vec<(Photo, String)>, Vec<(String, Vec<u8>)>)> {
        let mut listed = Vec::new();
        let mut files = Vec::new();
        for p in photos {
            let extension = if p.content_type == "image/png" {
                "png"
            } else {
                "jpg"
            };
            let name = format!("photos/{}.{extension}", p.id);
            files.push((name.clone(), self.blobs.get(&p.blob_key).await?));
            listed.push((p.clone(), name));
        }
        Ok((listed, files))
    }

    /// A client's complete record as one zip archive (see the module): every record, the
    /// photo bytes and the audit trail, in JSON and CSV. Owners and practitioners; audited
    /// as exported.
    pub async fn export_client_archive(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Vec<u8>> {
        let export = self.export_client(actor, client_id).await?;
        let trail = self.trail(actor.clinic_id, Some(client_id)).await?;
        let (listed, files) = self.photo_files(&export.photos).await?;
        let mut tables = Tables::default();
        tables.client(&export, &listed)?;
        tables.audit(&trail)?;
        let record = ClientRecord {
            format: 1,
            exported_at: now(),
            export: &export,
            audit_trail: &trail,
        };
        archive(CLIENT_README, &record, tables, files)
    }

    /// The whole clinic as one zip archive: the clinic and its settings, users (no password
    /// hashes), pigments, every client's complete record with photos, and the audit log, in
    /// JSON and CSV — so a clinic can take its data and leave. Owners only; audited.
    pub async fn export_clinic_archive(&self, actor: &Actor) -> StoreResult<Vec<u8>> {
        actor.require(Action::Backup)?;
        let clinic = self.clinic(actor).await?;
        let users = self.list_users(actor).await?;
        let products = self.pigment_products(actor).await?;
        let batches = self.pigment_batches(actor).await?;
        let ids: Vec<(Uuid,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT id FROM clients WHERE clinic_id = $1 ORDER BY created_at, id")
                .bind(actor.clinic_id).fetch_all(pool).await?
        });
        let mut exports = Vec::new();
        let mut tables = Tables::default();
        let mut files = Vec::new();
        for (id,) in &ids {
            let export = self.export_client(actor, *id).await?;
            let (listed, photo_files) = self.photo_files(&export.photos).await?;
            tables.client(&export, &listed)?;
            files.extend(photo_files);
            exports.push(export);
        }
        for u in &users {
            tables.row(
                "users",
                &["id", "email", "name", "role", "active", "created_at"],
                &[
                    u.id.to_string(),
                    u.email.clone(),
                    u.name.clone(),
                    u.role.to_string(),
                    u.active.to_string(),
                    rfc3339(u.created_at),
                ],
            )?;
        }
        for p in &products {
            tables.row(
                "pigment_products",
                &["id", "name", "maker", "ingredients", "created_at"],
                &[
                    p.id.to_string(),
                    p.name.clone(),
                    p.maker.clone(),
                    p.ingredients.clone(),
                    rfc3339(p.created_at),
                ],
            )?;
        }
        for b in &batches {
            tables.row(
                "pigment_batches",
                &["id", "product_id", "lot", "expires_on", "quantity", "created_at"],
                &[
                    b.id.to_string(),
                    b.product_id.to_string(),
                    b.lot.clone(),
                    b.expires_on.to_string(),
                    b.quantity.to_string(),
                    rfc3339(b.created_at),
                ],
            )?;
        }
        self.audit(
            actor,
            None,
            AuditAction::Exported,
            &format!(
                "clinic-wide export: {} clients, {} photos",
                ids.len(),
                files.len()
            ),
        )
        .await?;
        let trail = self.trail(actor.clinic_id, None).await?;
        tables.audit(&trail)?;
        let report_rows: Vec<(String,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT report FROM retention_reports WHERE clinic_id = $1 ORDER BY run_at, id")
                .bind(actor.clinic_id).fetch_all(pool).await?
        });
        let reports = report_rows
            .into_iter()
            .map(|(json,)| {
                serde_json::from_str(&json)
                    .map_err(|e| StoreError::Internal(format!("retention report: {e}")))
            })
            .collect::<StoreResult<Vec<RetentionReport>>>()?;
        let statistics = self.anonymous_statistics(actor).await?;
        for (scale, stage, clients) in &statistics {
            tables.row(
                "anonymous_statistics",
                &["scale", "stage", "clients"],
                &[scale.clone(), stage.clone(), clients.to_string()],
            )?;
        }
        let record = ClinicRecord {
            format: 1,
            exported_at: now(),
            clinic: &clinic,
            users: &users,
            pigment_products: &products,
            pigment_batches: &batches,
            clients: exports
                .iter()
                .map(|export| ClientRecord {
                    format: 1,
                    exported_at: now(),
                    export,
                    audit_trail: &[],
                })
                .collect(),
            audit_log: &trail,
            retention_reports: &reports,
            anonymous_statistics: statistics
                .into_iter()
                .map(|(scale, stage, clients)| AnonymousCount {
                    scale,
                    stage,
                    clients,
                })
                .collect(),
        };
        archive(CLINIC_README, &record, tables, files)
    }

    /// Imports clients and appointments from CSV (owners only; see `CLIENT_COLUMNS` and
    /// `APPOINTMENT_COLUMNS`). Every row of both files is checked first and every mistake
    /// reported by file, line and column; nothing is saved on a dry run or when there is any
    /// mistake. Otherwise all rows are saved in one transaction, each audited as created.
    pub async fn import_csv(
        &self,
        actor: &Actor,
        clients_csv: &str,
        appointments_csv: &str,
        dry_run: bool,
    ) -> StoreResult<ImportReport> {
        actor.require(Action::Backup)?;
        actor.require(Action::EditClients)?;
        let mut errors = Vec::new();
        let mut clients = Vec::new();
        let mut refs: HashMap<String, usize> = HashMap::new();
        for row in read_csv(
            "clients.csv",
            clients_csv,
            &CLIENT_COLUMNS,
            &["name"],
            &mut errors,
        ) {
            let before = errors.len();
            let mut fail = |column: &str, value: &str, message: String| {
                errors.push(ImportRowError {
                    file: "clients.csv".into(),
                    line: row.line,
                    column: column.to_owned(),
                    value: value.chars().take(80).collect(),
                    message,
                });
            };
            let date_of_birth = match row.get("date_of_birth") {
                "" => None,
                text => {
                    match time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")) {
                        Ok(d) => Some(d),
                        Err(_) => {
                            fail(
                                "date_of_birth",
                                text,
                                "expected a date as YYYY-MM-DD, such as 1984-03-09".into(),
                            );
                            None
                        }
                    }
                }
            };
            let age_years = match row.get("age_years") {
                "" => None,
                text => match text.parse::<i64>() {
                    Ok(a) => Some(a),
                    Err(_) => {
                        fail("age_years", text, "expected whole years, 0–130".into());
                        None
                    }
                },
            };
            let new = NewClient {
                name: row.get("name").to_owned(),
                date_of_birth,
                age_years,
                phone: row.get("phone").to_owned(),
                email: row.get("email").to_owned(),
                notes: row.get("notes").to_owned(),
            };
            // Every field's own mistake: each is checked alone with harmless others.
            for column in ["name", "date_of_birth", "age_years", "phone", "email", "notes"] {
                let mut alone = NewClient {
                    name: "x".into(),
                    ..NewClient::default()
                };
                match column {
                    "name" => alone.name = new.name.clone(),
                    "date_of_birth" => alone.date_of_birth = new.date_of_birth,
                    "age_years" => alone.age_years = new.age_years,
                    "phone" => alone.phone = new.phone.clone(),
                    "email" => alone.email = new.email.clone(),
                    _ => alone.notes = new.notes.clone(),
                }
                if let Err(StoreError::Invalid { message, .. }) = check_client(&alone) {
                    fail(column, row.get(column), message);
                }
            }
            let reference = row.get("ref").trim().to_owned();
            if !reference.is_empty() && refs.contains_key(&reference) {
                fail(
                    "ref",
                    &reference,
                    "this ref names another row already; each client needs its own".into(),
                );
            }
            if errors.len() == before {
                if !reference.is_empty() {
                    refs.insert(reference, clients.len());
                }
                clients.push(new);
            }
        }
        // Clients already in the clinic, by email, for appointments that name one.
        let known: Vec<(Uuid, String)> = on_db!(self, pool => {
            sqlx::query_as("SELECT id, email FROM clients WHERE clinic_id = $1 AND email <> ''")
                .bind(actor.clinic_id).fetch_all(pool).await?
        });
        let known: HashMap<String, Uuid> = known.into_iter().map(|(id, email)| (email, id)).collect();
        enum Who {
            New(usize),
            Known(Uuid),
        }
        let mut appointments = Vec::new();
        let rows = read_csv(
            "appointments.csv",
            appointments_csv,
            &APPOINTMENT_COLUMNS,
            &["starts_at", "duration_minutes"],
            &mut errors,
        );
        for row in rows {
            let before = errors.len();
            let mut fail = |column: &str, value: &str, message: String| {
                errors.push(ImportRowError {
                    file: "appointments.csv".into(),
                    line: row.line,
                    column: column.to_owned(),
                    value: value.chars().take(80).collect(),
                    message,
                });
            };
            let who = match (
                row.get("client_ref").trim(),
                row.get("client_email").trim().to_lowercase(),
            ) {
                (reference, _) if !reference.is_empty() => match refs.get(reference) {
                    Some(i) => Some(Who::New(*i)),
                    None => {
                        fail(
                            "client_ref",
                            reference,
                            "no row of clients.csv has this ref (or that row has a mistake)".into(),
                        );
                        None
                    }
                },
                (_, email) if !email.is_empty() => match known.get(&email) {
                    Some(id) => Some(Who::Known(*id)),
                    None => {
                        fail(
                            "client_email",
                            &email,
                            "no client of this clinic has this email".into(),
                        );
                        None
                    }
                },
                _ => {
                    fail("client_ref", "", "expected a client_ref from clients.csv or the client_email of a client of this clinic".into());
                    None
                }
            };
            let starts_at = match OffsetDateTime::parse(row.get("starts_at").trim(), &Rfc3339) {
                Ok(t) => match validate::moment("starts_at", t) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        fail("starts_at", row.get("starts_at"), e.to_string());
                        None
                    }
                },
                Err(_) => {
                    fail(
                        "starts_at",
                        row.get("starts_at"),
                        "expected a date and time with its offset, such as 2027-03-01T10:00:00Z".into(),
                    );
                    None
                }
            };
            let duration = match row.get("duration_minutes").trim().parse::<i64>() {
                Ok(m) if (1..=1440).contains(&m) => Some(m),
                _ => {
                    fail(
                        "duration_minutes",
                        row.get("duration_minutes"),
                        "expected whole minutes, 1–1440".into(),
                    );
                    None
                }
            };
            let status = match row.get("status").trim() {
                "" => Some(AppointmentStatus::Booked),
                text => match AppointmentStatus::parse(text) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        fail(
                            "status",
                            text,
                            e.to_string().trim_start_matches("status: ").to_owned(),
                        );
                        None
                    }
                },
            };
            let notes = match validate::text("notes", row.get("notes")) {
                Ok(n) => Some(n),
                Err(e) => {
                    fail(
                        "notes",
                        row.get("notes"),
                        e.to_string().trim_start_matches("notes: ").to_owned(),
                    );
                    None
                }
            };
            if let (Some(who), Some(starts_at), Some(duration), Some(status), Some(notes), true) =
                (who, starts_at, duration, status, notes, errors.len() == before)
            {
                appointments.push((who, starts_at, duration, status, notes));
            }
        }
        let mut report = ImportReport {
            dry_run,
            saved: false,
            clients: clients.len() as u64,
            appointments: appointments.len() as u64,
            errors,
        };
        if dry_run || !report.errors.is_empty() {
            return Ok(report);
        }
        let at = now();
        let ids: Vec<Uuid> = clients.iter().map(|_| Uuid::new_v4()).collect();
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            for (new, id) in clients.iter().zip(&ids) {
                let c = check_client(new)?;
                sqlx::query(
                    "INSERT INTO clients (id, clinic_id, name, date_of_birth, age_years, phone, email, notes, search_text, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
                )
                .bind(*id).bind(actor.clinic_id).bind(&c.name).bind(c.date_of_birth).bind(c.age_years).bind(&c.phone)
                .bind(&c.email).bind(&c.notes).bind(&c.search_text).bind(at)
                .execute(&mut *tx).await?;
                audit_insert!(actor, Some(*id), AuditAction::Created, "client (CSV import)").execute(&mut *tx).await?;
            }
            for (who, starts_at, duration, status, notes) in &appointments {
                let client_id = match who {
                    Who::New(i) => ids[*i],
                    Who::Known(id) => *id,
                };
                sqlx::query(
                    "INSERT INTO appointments (id, clinic_id, client_id, practitioner_id, starts_at, duration_minutes, status, notes, created_at) \
                     VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8)",
                )
                .bind(Uuid::new_v4()).bind(actor.clinic_id).bind(client_id).bind(*starts_at).bind(*duration)
                .bind(status.as_str()).bind(notes).bind(at)
                .execute(&mut *tx).await?;
                audit_insert!(actor, Some(client_id), AuditAction::Created, "appointment (CSV import)").execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        report.saved = true;
        Ok(report)
    }
}

/// A CSV row by column name, with its line.
struct Row {
    line: u64,
    values: HashMap<String, String>,
}

impl Row {
    fn get(&self, column: &str) -> &str {
        self.values.get(column).map_or("", String::as_str)
    }
}

/// Reads a CSV file with a header line: unknown or missing columns, bad rows and too many
/// rows are errors placed by line; empty text is an empty file.
fn read_csv(
    file: &str,
    text: &str,
    allowed: &[&str],
    required: &[&str],
    errors: &mut Vec<ImportRowError>,
) -> Vec<Row> {
    let mut out = Vec::new();
    if text.trim().is_empty() {
        return out;
    }
    let mut fail = |line: u64, column: &str, value: &str, message: String| {
        errors.push(ImportRowError {
            file: file.to_owned(),
            line,
            column: column.to_owned(),
            value: value.chars().take(80).collect(),
            message,
        });
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
        Err(e) => {
            fail(1, "", "", format!("the header line cannot be read: {e}"));
            return out;
        }
    };
    let mut bad_header = false;
    for column in &header {
        if !allowed.contains(&column.as_str()) {
            fail(
                1,
                column,
                column,
                format!("unknown column; allowed: {}", allowed.join(", ")),
            );
            bad_header = true;
        }
    }
    for column in required {
        if !header.iter().any(|c| c == column) {
            fail(
                1,
                column,
                "",
                format!(
                    "the column {column} is required; the header has {}",
                    header.join(", ")
                ),
            );
            bad_header = true;
        }
    }
    if bad_header {
        return out;
    }
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                if out.len() >= MAX_IMPORT_ROWS {
                    fail(
                        line,
                        "",
                        "",
                        format!("at most {MAX_IMPORT_ROWS} rows a file; split the file"),
                    );
                    break;
                }
                let values = header
                    .iter()
                    .cloned()
                    .zip(record.iter().map(str::to_owned))
                    .collect();
                out.push(Row { line, values });
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("this row has {len} fields, the header {expected_len}")
                    }
                    csv::ErrorKind::Utf8 { .. } => "the row is not UTF-8 text".to_owned(),
                    _ => e.to_string(),
                };
                fail(line, "", "", message);
            }
        }
    }
    out
}
