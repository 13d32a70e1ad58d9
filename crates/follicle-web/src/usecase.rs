//! The clinic's actions, once: the JSON API and the studio both call these, so the two cannot
//! diverge (crates.io's and atuin's "one place per action").
//!
//! - [`record_consultation`]: a client file planned with the clinic's settings, stored as the
//!   client's next consultation with its plan and quote as issued, the settings file it was
//!   made with, and the design drawn from it, in one transaction.
//! - [`save_design_version`]: a design and the plan and quote that go with it.
//! - [`replan`]: "re-plan with today's settings", a new consultation version and the list of
//!   what changed; the earlier version is kept as it was issued.
//! - [`log_session`]: a treatment session.
//!
//! Nothing here re-plans a stored record to show it: the printout, the timeline and the API
//! read [`follicle_store::PlanRecord`] as it was stored.

use follicle_core::{ClientProfile, Plan, Settings};
use follicle_pattern::PatternRequest;
use follicle_store::record::{Issue, differences};
use follicle_store::{
    Actor, Consultation, Design, Difference, LoggedSession, NewConsultation, NewDesign, NewSessionLog,
    PlanRecord,
};
use serde_json::Value;
use time::Date;
use uuid::Uuid;

use crate::compute::{self, ClientInput, Planned};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The seed a design drawn from a plan gets unless one is given.
pub const DEFAULT_SEED: u64 = 1;

/// When a quote made now is issued and until when it holds (the clinic's
/// `pricing.quote_valid_days`).
pub fn issue_today(settings: &Settings) -> Issue {
    Issue {
        on: compute::today(),
        valid_days: settings.pricing.quote_valid_days,
    }
}

/// A consultation as recorded, with the design drawn from it (none when nothing is to be
/// treated).
#[derive(Debug)]
pub struct Recorded {
    /// The consultation.
    pub consultation: Consultation,
    /// The design saved with it.
    pub design: Option<Design>,
}

/// The design a plan gives, as the store keeps it, with the plan record that goes with it.
fn design_from_plan(
    client_id: Uuid,
    plan: &Plan,
    record: &PlanRecord,
    settings: &Settings,
    notes: String,
) -> ApiResult<Option<NewDesign>> {
    if plan.sessions.is_empty() {
        return Ok(None);
    }
    let request = follicle_pattern::treatment::design_request(plan, settings, DEFAULT_SEED);
    let (hairline, zones, rest) = compute::split_request(&request)?;
    Ok(Some(NewDesign {
        client_id,
        consultation_id: None,
        hairline,
        zones,
        seed: request.seed,
        settings: rest,
        notes,
        plan: Some(record.clone()),
    }))
}

/// Records a consultation: plans `input` with the clinic's settings and stores it as the
/// client's next version, with its quote (numbered, dated, valid for the clinic's
/// `pricing.quote_valid_days`), the clinic's settings file and the design drawn from the
/// plan, all in one transaction.
pub async fn record_consultation(
    state: &AppState,
    actor: &Actor,
    client_id: Uuid,
    input: &ClientInput,
) -> ApiResult<Recorded> {
    actor.require(follicle_store::Action::EditClinicalRecords)?;
    let clinic = state.clinic_settings_file(actor).await?;
    let planned = state.plan(input, &clinic.settings, None).await?;
    store_planned(
        state,
        actor,
        client_id,
        &input.client_toml,
        &clinic,
        &planned,
        None,
        "From the consultation".to_owned(),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn store_planned(
    state: &AppState,
    actor: &Actor,
    client_id: Uuid,
    client_toml: &str,
    clinic: &crate::state::ClinicSettings,
    planned: &Planned,
    replanned_from: Option<Uuid>,
    design_notes: String,
) -> ApiResult<Recorded> {
    let record = PlanRecord::from_core(&planned.plan, issue_today(&clinic.settings));
    let design = design_from_plan(client_id, &planned.plan, &record, &clinic.settings, design_notes)?;
    let new = NewConsultation {
        client_id,
        profile_toml: client_toml.to_owned(),
        settings_toml: clinic.toml.clone(),
        plan: record,
        replanned_from,
    };
    let (consultation, design) = state
        .store()
        .add_consultation(actor, &new, design.as_ref())
        .await?;
    Ok(Recorded { consultation, design })
}

/// A re-plan: the new consultation version and what changed from the one it re-plans.
#[derive(Debug)]
pub struct Replanned {
    /// The consultation that was re-planned (unchanged).
    pub before: Consultation,
    /// The new version.
    pub after: Recorded,
    /// What changed: sessions, dates, hours, price lines.
    pub differences: Vec<Difference>,
}

/// "Re-plan with today's settings": the client file of consultation `consultation_id`,
/// assessed on its assessment day with sessions from its first session's day (so only the
/// settings differ), planned with the clinic's settings as they are now, stored as the
/// client's next consultation version (the one re-planned stays as it was issued).
pub async fn replan(state: &AppState, actor: &Actor, consultation_id: Uuid) -> ApiResult<Replanned> {
    actor.require(follicle_store::Action::EditClinicalRecords)?;
    let before = state
        .store()
        .consultation(actor, consultation_id)
        .await
        .map_err(|e| match e {
            follicle_store::StoreError::NotFound { .. } => not_on_file("consultation", consultation_id),
            other => other.into(),
        })?;
    // The client must still be on file (a consultation cannot outlive its client, but the
    // check names the client if it ever does).
    state.store().client(actor, before.client_id).await.map_err(|_| {
        ApiError::invalid(
            "client_id",
            format!(
                "the consultation's client {} is not on file; a re-plan needs a client on file",
                before.client_id
            ),
        )
    })?;
    let input = ClientInput::from_consultation(&before).ok_or_else(|| {
        ApiError::invalid(
            "consultation_id",
            format!(
                "consultation {consultation_id} kept no client file; a re-plan needs one (record a new consultation)"
            ),
        )
    })?;
    let clinic = state.clinic_settings_file(actor).await?;
    let planned = state.plan(&input, &clinic.settings, None).await?;
    let after = store_planned(
        state,
        actor,
        before.client_id,
        &input.client_toml,
        &clinic,
        &planned,
        Some(before.id),
        format!("Re-planned from consultation v{}", before.version),
    )
    .await?;
    let differences = differences(&before.plan, &after.consultation.plan);
    Ok(Replanned {
        before,
        after,
        differences,
    })
}

/// 404 naming the path's `id`: no such record in this clinic.
fn not_on_file(what: &str, id: Uuid) -> ApiError {
    let mut e = ApiError::not_found(what);
    e.detail.field = Some("id".to_owned());
    e.detail.message = format!(
        "{what} {id} is not on file in this clinic (deleted, or never recorded here); \
         expected the id of a {what} on file"
    );
    e
}

/// Re-plans a client's latest consultation. A client that is not on file (deleted, another
/// clinic's, never existed) is a 404 naming the client; a client without consultations is a
/// 422 naming `client_id`.
pub async fn replan_latest(state: &AppState, actor: &Actor, client_id: Uuid) -> ApiResult<Replanned> {
    let all = state
        .store()
        .consultations(actor, client_id)
        .await
        .map_err(|e| match e {
            follicle_store::StoreError::NotFound { .. } => not_on_file("client", client_id),
            other => other.into(),
        })?;
    let latest = all.last().ok_or_else(|| {
        ApiError::invalid(
            "client_id",
            format!("client {client_id} has no consultation to re-plan; record one first"),
        )
    })?;
    replan(state, actor, latest.id).await
}

/// A design to save as a new version.
#[derive(Debug, Clone)]
pub struct DesignEdit {
    /// The consultation it is drawn for (of the same client).
    pub consultation_id: Option<Uuid>,
    /// The design; without it, the design the consultation's plan gives.
    pub request: Option<PatternRequest>,
    /// The seed.
    pub seed: u64,
    /// Notes.
    pub notes: String,
}

/// The plan and quote that go with a design drawn for a consultation.
///
/// This is the one place that plans a design: the pattern engine measures the edited design's
/// zones (hairline moved, zones painted or erased, densities changed) on the client's head and
/// the planner prices what is drawn, so hours, sessions and price follow the edit. A design that
/// leaves nothing to treat is a 422 naming `zones`.
pub fn plan_for_design(
    (profile, today, start): (&ClientProfile, Date, Date),
    design: &PatternRequest,
    settings: &Settings,
) -> ApiResult<Plan> {
    follicle_pattern::replan_design(design, profile, settings, today, start)
        .map(|t| t.plan)
        .map_err(|e| match e.field() {
            "zones" => ApiError::invalid("zones", e.to_string()),
            _ => compute::drawing_error(e),
        })
}

/// The plan for a design edit of consultation `c`, without storing anything (the designer's
/// live figures).
pub async fn plan_design_edit(
    state: &AppState,
    actor: &Actor,
    consultation_id: Uuid,
    design: &PatternRequest,
) -> ApiResult<PlanRecord> {
    let c = state.store().consultation(actor, consultation_id).await?;
    let settings = state.clinic_settings(actor).await?;
    // Only the client file and its days: the consultation's own plan is not needed to re-plan
    // the edit (this runs on every redraw in the designer).
    let (profile, today, start) = input_of(&c)?.read(&settings)?;
    let plan = plan_for_design((&profile, today, start), design, &settings)?;
    Ok(PlanRecord::from_core(&plan, issue_today(&settings)))
}

/// The client file a consultation kept, with its days.
fn input_of(c: &Consultation) -> ApiResult<ClientInput> {
    ClientInput::from_consultation(c).ok_or_else(|| {
        ApiError::invalid(
            "consultation_id",
            "this consultation kept no client file to design from",
        )
    })
}

fn planned_of(c: &Consultation, settings: &Settings) -> ApiResult<Planned> {
    input_of(c)?.plan(settings)
}

/// Saves a design version of client `client_id`, with the plan and quote that go with it
/// (when it is drawn for a consultation). The design is drawn once before it is kept.
pub async fn save_design_version(
    state: &AppState,
    actor: &Actor,
    client_id: Uuid,
    edit: DesignEdit,
) -> ApiResult<Design> {
    actor.require(follicle_store::Action::EditClinicalRecords)?;
    let settings = state.clinic_settings(actor).await?;
    let planned = match edit.consultation_id {
        Some(cid) => {
            let c = state.store().consultation(actor, cid).await?;
            if c.client_id != client_id {
                return Err(ApiError::not_found("consultation"));
            }
            Some(planned_of(&c, &settings)?)
        }
        None => None,
    };
    let mut request = match (edit.request, &planned) {
        (Some(request), _) => request,
        (None, Some(planned)) => {
            if planned.plan.sessions.is_empty() {
                return Err(ApiError::invalid(
                    "consultation_id",
                    "the plan has no sessions: nothing to design",
                ));
            }
            follicle_pattern::treatment::design_request(&planned.plan, &settings, edit.seed)
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "request",
                "give a design (request) or a consultation_id to design from",
            ));
        }
    };
    request.seed = edit.seed;
    // Check it draws before keeping it.
    state.pattern(request.clone()).await?;
    let plan = match planned.as_ref() {
        Some(p) => Some(PlanRecord::from_core(
            &plan_for_design((&p.profile, p.today, p.start), &request, &settings)?,
            issue_today(&settings),
        )),
        None => None,
    };
    let (hairline, zones, rest) = compute::split_request(&request)?;
    let new = NewDesign {
        client_id,
        consultation_id: edit.consultation_id,
        hairline,
        zones,
        seed: edit.seed,
        settings: rest,
        notes: edit.notes,
        plan,
    };
    Ok(state.store().add_design(actor, &new).await?)
}

/// Logs a treatment session. The store's error is kept as it is, so the studio can put a
/// mistake beside its field.
///
/// Unless the clinic turned it off (`consent.required_for_session`), the client must have a
/// standing treatment consent, signed for their latest design: no consent, no session.
pub async fn log_session(
    state: &AppState,
    actor: &Actor,
    session: &NewSessionLog,
) -> follicle_store::StoreResult<LoggedSession> {
    let settings = state
        .clinic_settings(actor)
        .await
        .map_err(|e| follicle_store::StoreError::Internal(e.detail.message))?;
    if settings.consent.required_for_session {
        state.store().log_session_under_consent(actor, session).await
    } else {
        state.store().log_session(actor, session).await
    }
}

/// The design saved with a consultation (its first design version drawn for it), if any.
pub async fn design_of(state: &AppState, actor: &Actor, c: &Consultation) -> ApiResult<Option<Design>> {
    let designs = state.store().designs(actor, c.client_id).await?;
    Ok(designs
        .into_iter()
        .filter(|d| d.consultation_id == Some(c.id))
        .min_by_key(|d| d.version))
}

/// The client's profile as it stood for a stored consultation, read with the settings the
/// consultation was made with (today's when those no longer read); `None` when it kept no
/// client file or the file no longer reads.
pub fn stored_profile(c: &Consultation, today_settings: &Settings) -> (Option<ClientProfile>, Settings) {
    let settings = c
        .settings_toml
        .as_deref()
        .and_then(|t| crate::state::parse_settings(t).ok())
        .unwrap_or_else(|| today_settings.clone());
    let profile = c
        .profile_toml
        .as_deref()
        .and_then(|t| ClientProfile::from_toml(t, &settings, c.plan.assessed_on).ok());
    (profile, settings)
}

/// A JSON value of a pattern request, naming the field that does not fit.
pub fn pattern_request(value: Value, field: &str) -> ApiResult<PatternRequest> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ApiError::invalid(format!("{field}.{path}"), e.into_inner().to_string())
    })
}
