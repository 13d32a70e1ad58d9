//! Assessments, plans, patterns and previews for the API: the same core, pattern and render
//! calls as the command line, with the clinic's settings and errors as [`ApiError`]s.

use follicle_core::assess::Measured;
use follicle_core::profile::Fitzpatrick;
use follicle_core::{Assessment, ClientProfile, Plan, Settings};
use follicle_pattern::treatment::{self, DEFAULT_SEED};
use follicle_pattern::{Pattern, PatternRequest, generate};
use follicle_render::{Look, Moment, Scene, View, to_png};
use serde::Deserialize;
use serde_json::Value;
use time::Date;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};

/// A client file to assess or plan.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    /// The client file, TOML, as `follicle plan` reads it (see examples/clients).
    pub client_toml: String,
    /// The assessment date, YYYY-MM-DD (default today).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<String>,
    /// The earliest day for the first session, YYYY-MM-DD (default the assessment date).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub start: Option<String>,
}

/// A client file assessed and planned with a clinic's settings.
#[derive(Debug)]
pub struct Planned {
    /// The parsed profile.
    pub profile: ClientProfile,
    /// The plan (with the assessment inside).
    pub plan: Plan,
    /// The design the plan was priced from: its zones are the plan's zones.
    pub request: PatternRequest,
    /// The day the client was assessed.
    pub today: Date,
    /// The first day sessions could start.
    pub start: Date,
}

fn date(field: &str, text: Option<&str>, default: Date) -> ApiResult<Date> {
    match text {
        None => Ok(default),
        Some(t) => follicle_core::profile::parse_date(t).map_err(|e| ApiError::invalid(field, e)),
    }
}

/// Today, in UTC.
pub fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

impl ClientInput {
    /// The client file a stored consultation was made from, dated as it was: assessed on its
    /// assessment date, sessions from its first session's date. `None` when the consultation
    /// kept no client file.
    pub fn from_consultation(c: &follicle_store::Consultation) -> Option<ClientInput> {
        Some(ClientInput {
            client_toml: c.profile_toml.clone()?,
            date: Some(c.plan.assessed_on.to_string()),
            start: c.plan.first_visit().map(|d| d.to_string()),
        })
    }

    /// Reads and assesses the client file: the zones to treat drawn on the client's head and
    /// measured there. Draws on the calling thread: a server calls
    /// [`AppState::assess`](crate::state::AppState::assess) instead.
    pub fn assess(&self, settings: &Settings) -> ApiResult<(ClientProfile, Assessment)> {
        let day = date("date", self.date.as_deref(), today())?;
        let profile = ClientProfile::from_toml(&self.client_toml, settings, day)?;
        let (assessment, _) =
            treatment::assess_client(&profile, settings, day, DEFAULT_SEED).map_err(drawing_error)?;
        Ok((profile, assessment))
    }

    /// Reads, assesses and plans the client file with the default seed. Draws on the calling
    /// thread: a server calls [`AppState::plan`](crate::state::AppState::plan) instead.
    pub fn plan(&self, settings: &Settings) -> ApiResult<Planned> {
        let designed = self.design(settings, DEFAULT_SEED)?;
        let measured = treatment::measure_drawn(&designed.request).map_err(drawing_error)?;
        Ok(designed.plan(measured, settings))
    }

    /// Reads the client file with the day it is assessed on and the first day sessions could
    /// start, without planning it.
    pub fn read(&self, settings: &Settings) -> ApiResult<(ClientProfile, Date, Date)> {
        let day = date("date", self.date.as_deref(), today())?;
        let profile = ClientProfile::from_toml(&self.client_toml, settings, day)?;
        let start = date("start", self.start.as_deref(), day)?;
        Ok((profile, day, start))
    }

    /// Reads and assesses the client file and lays out the design its plan is priced from,
    /// with `seed`, without drawing it (quick).
    pub fn design(&self, settings: &Settings, seed: u64) -> ApiResult<Designed> {
        let (profile, today, start) = self.read(settings)?;
        let (assessment, request) = treatment::design_client(&profile, settings, today, seed);
        Ok(Designed {
            profile,
            assessment,
            request,
            today,
            start,
        })
    }
}

/// A client file read and assessed, with the design its plan is priced from (not drawn yet).
#[derive(Debug)]
pub struct Designed {
    /// The parsed profile.
    pub profile: ClientProfile,
    /// The assessment, before the zones are measured on the drawn design.
    pub assessment: Assessment,
    /// The design to draw and measure ([`treatment::measure_drawn`]).
    pub request: PatternRequest,
    /// The day the client was assessed.
    pub today: Date,
    /// The first day sessions could start.
    pub start: Date,
}

impl Designed {
    /// The plan priced from what was measured on the drawn design.
    pub fn plan(self, measured: Measured, settings: &Settings) -> Planned {
        let t = treatment::plan_measured(&self.assessment, self.request, measured, settings, self.start);
        Planned {
            profile: self.profile,
            plan: t.plan,
            request: t.request,
            today: self.today,
            start: self.start,
        }
    }
}

/// A valid client file whose zones cannot be drawn on the head it describes.
pub(crate) fn drawing_error(e: follicle_pattern::PatternError) -> ApiError {
    ApiError::invalid(
        "client_toml",
        format!("the zones cannot be drawn on this head: {e}"),
    )
}

/// Generates a pattern off the async threads (a full scalp takes tens of milliseconds), as
/// `off_thread` runs it: on a blocking thread, holding a heavy permit.
pub async fn pattern(request: PatternRequest) -> ApiResult<Pattern> {
    off_thread(move || generate(&request).map_err(|e| ApiError::invalid("design", e.to_string()))).await
}

/// Runs drawing work on a blocking thread under [`crate::limits::heavy`]: when that is full
/// the answer is 503 at once; a request dropped while it waits never starts its work.
pub(crate) async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let permit = crate::limits::heavy().acquire().await?;
    let cancelled = crate::limits::Cancelled::default();
    let _cancel = cancelled.on_drop();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        if cancelled.is_set() {
            return Err(ApiError::busy("the request was gone before its work began", 1));
        }
        work()
    })
    .await
    .map_err(ApiError::internal)?
}

/// How to draw a preview.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewArgs {
    /// `chart`, `front`, `top`, `left`, `right` or `back` (default `front`).
    #[serde(default)]
    #[schema(pattern = "^(chart|front|top|left|right|back)$")]
    pub view: Option<String>,
    /// `fresh:N`, `healed:N`, `years:Y` or `years:Y@T` (default `healed:` the last session).
    #[serde(default)]
    pub moment: Option<String>,
    /// Image side in pixels, 16–2048 (default 512).
    #[serde(default)]
    #[schema(minimum = 16, maximum = 2048)]
    pub size: Option<u32>,
}

impl PreviewArgs {
    fn parse(&self, sessions: u8) -> ApiResult<(View, Moment, u32)> {
        let view = match &self.view {
            Some(v) => View::parse(v).map_err(|e| ApiError::invalid("view", e))?,
            None => View::Front,
        };
        let moment = match &self.moment {
            Some(m) => Moment::parse(m).map_err(|e| ApiError::invalid("moment", e))?,
            None => Moment::Healed {
                session: sessions.max(1),
            },
        };
        moment
            .validate(sessions)
            .map_err(|e| ApiError::invalid("moment", e.to_string()))?;
        let size = self.size.unwrap_or(512);
        if !(16..=2048).contains(&size) {
            return Err(ApiError::invalid(
                "size",
                format!("expected 16–2048 pixels, got {size}"),
            ));
        }
        Ok((view, moment, size))
    }
}

/// Draws a preview of a pattern as PNG, off the async threads.
pub async fn preview_png(
    pattern: std::sync::Arc<Pattern>,
    look: Look,
    args: &PreviewArgs,
) -> ApiResult<Vec<u8>> {
    let (view, moment, size) = args.parse(pattern.sessions)?;
    // Under the heavy-work limit; the permit goes with the work, so a render still running
    // after its request was dropped keeps counting until it notices. A request gone before
    // the render, during it (between bands of rows) or before the PNG encoding stops there.
    let permit = crate::limits::heavy().acquire().await?;
    let cancelled = crate::limits::Cancelled::default();
    let _cancel = cancelled.on_drop();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let gone = || ApiError::busy("the request was gone; the preview was stopped", 1);
        if cancelled.is_set() {
            return Err(gone());
        }
        let settings = look.render_settings();
        let scene = Scene {
            pattern: &pattern,
            skin: look.skin,
            hair: look.hair,
            fading: look.fading,
            settings: &settings,
        };
        let image = match scene.render_until(view, &moment, size, size, cancelled.flag()) {
            Ok(image) => image,
            Err(follicle_render::RenderError::Stopped) => {
                crate::limits::count_stopped();
                return Err(gone());
            }
            Err(e) => return Err(ApiError::invalid("preview", e.to_string())),
        };
        if cancelled.is_set() {
            return Err(gone());
        }
        to_png(&image).map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

/// A look for a design that is not tied to a client profile.
pub fn typical_look(fitzpatrick: Option<&str>, settings: &Settings) -> ApiResult<Look> {
    let f = match fitzpatrick {
        Some(t) => Fitzpatrick::parse_str(t).map_err(|e| ApiError::invalid("fitzpatrick", e))?,
        None => Fitzpatrick::III,
    };
    Ok(Look::typical(f, settings))
}

/// A pattern request as the three JSON parts a stored design keeps: the hairline, the zones,
/// and everything else (head, scars, exclusions, densities, sessions, needles, settings).
pub fn split_request(request: &PatternRequest) -> ApiResult<(Value, Value, Value)> {
    let mut all = serde_json::to_value(request).map_err(ApiError::internal)?;
    let map = all
        .as_object_mut()
        .ok_or_else(|| ApiError::internal("a pattern request is not a JSON object"))?;
    let hairline = map.remove("hairline").unwrap_or(Value::Null);
    let zones = map.remove("zones").unwrap_or(Value::Null);
    map.remove("seed");
    Ok((hairline, zones, all))
}

/// The pattern request a stored design describes.
pub fn join_request(hairline: &Value, zones: &Value, rest: &Value, seed: u64) -> ApiResult<PatternRequest> {
    let mut all = rest.clone();
    let map = all
        .as_object_mut()
        .ok_or_else(|| ApiError::internal("a stored design's settings are not a JSON object"))?;
    map.insert("hairline".into(), hairline.clone());
    map.insert("zones".into(), zones.clone());
    map.insert("seed".into(), Value::from(seed));
    serde_json::from_value(all)
        .map_err(|e| ApiError::internal(format!("a stored design no longer reads: {e}")))
}
