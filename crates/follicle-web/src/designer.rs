//! The designer's edit sessions: drag updates answered as deltas, the newest edit superseding
//! older ones, and the plan's figures in the same answer.
//!
//! When the designer opens, the page asks for an **edit session** (`POST
//! /api/v1/designer-sessions`). The server keeps, per session, the last few patterns it drew
//! ([`VERSIONS_KEPT`], as encoded dots cut into the binary format's tiles), the sampler's state
//! between updates ([`DragSampler`]) and the bald head's areas the re-plan needs
//! ([`follicle_pattern::treatment::FullAreas`]). Every edit (`POST
//! /api/v1/designer-sessions/{id}/edits`) carries the whole design, a sequence number and the
//! version of the dots the browser holds; the answer is a delta in the binary format
//! ([`crate::binary`], version 2) from that version to the new one, computed tile by tile
//! from the two patterns (so it is right whatever drew them), with the plan's figures in its
//! header.
//!
//! **The newest edit supersedes.** Each session counts the highest sequence number it has
//! seen. An edit is checked against it before its computation starts, before each tile the
//! sampler draws ([`follicle_pattern::PatternCache::generate_until`]) and when it ends (the
//! computation runs on a blocking thread, one at a time per session); an edit superseded at
//! any point answers 409 with code `superseded`, and its pattern is not kept as a version.
//! Superseded while it is drawn, it **stops within a tile** instead of being drawn to its
//! end, so the newer edit waiting for the session starts at once; the sampler keeps the
//! generation it had. An edit whose request is dropped (the browser aborted it, or the
//! connection closed) stops the same way. The browser aborts the superseded request as
//! well, so a dropped connection and a superseded answer are the same to it.
//!
//! **A drag previews; release is exact.** While the pointer moves, an edit is a preview
//! ([`follicle_pattern::PatternCache::preview_until`]): only the tiles whose density changed
//! are sampled afresh, and the rest keep their dots. The edit sent when the pointer is let go
//! says `release: true` and is drawn exactly
//! ([`follicle_pattern::PatternCache::generate_until`], byte-identical to
//! [`follicle_pattern::generate`]): after the delta is applied, the browser holds exactly the
//! dots `POST /pattern` gives for the same design.
//!
//! **Timed.** An edit's answer says in a `Server-Timing` header (`edit;dur=<ms>`) how long
//! the server took over it, from its body read to its delta encoded (waiting for the edit
//! before it included): the page reports it beside the round trip. Its parts follow it:
//! `draw` (the dots), then `plan` (the plan's figures) and `tiles` (the dots cut into the
//! delta's tiles), which run side by side, and `encode` (the delta), each in ms; a browser's
//! developer tools show them with the request.
//!
//! **Bounded.** At most [`MAX_SESSIONS`] sessions (the least recently used goes first), each
//! forgotten [`IDLE_SECONDS`] after its last use or when the page closes it; a session is
//! its user's alone (another user, even of the same clinic, gets 404). A forgotten session is
//! a 404 and the browser opens a new one and asks for the whole pattern again (`base` null).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use follicle_core::{ClientProfile, Settings};
use follicle_pattern::treatment::{self, FullAreas};
use follicle_pattern::{Pattern, PatternError, PatternRequest};
use follicle_store::Actor;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::Date;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::binary::{self, TiledDots};
use crate::compute::ClientInput;
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorDetail};
use crate::extract::{Id, JsonBody, SignedIn};
use crate::state::AppState;
use crate::usecase::{self, pattern_request};
use crate::wire::DesignPlanAnswer;

/// Most edit sessions kept at once (over all clinics); opening one more forgets the least
/// recently used. A Norwood VII pattern is about 0.4 MB of encoded dots, so the versions of
/// all sessions stay within about 20 MB (plus the sampler's state).
pub const MAX_SESSIONS: usize = 16;
/// A session unused for this long is forgotten.
pub const IDLE_SECONDS: u64 = 600;
/// Versions of the dots kept per session: the browser's base is one of the last few answers
/// (an answer it aborted may have been kept too).
pub const VERSIONS_KEPT: usize = 3;
/// Bald heads whose areas each session keeps for the re-plan.
pub const FULL_AREAS_KEPT: usize = 4;

/// The sampler's state kept between one drag update and the next.
///
/// The delta is computed from the patterns, not from what the sampler re-sampled.
pub type DragSampler = follicle_pattern::PatternCache;

/// Asked before each tile an edit draws: `true` stops the drawing.
type Stop<'a> = &'a (dyn Fn() -> bool + Sync);

/// The dots of one drag update: the one place the designer's drag draws a pattern (`None`:
/// stopped by `stop`).
///
/// A preview ([`follicle_pattern::PatternCache::preview_until`]): only the tiles whose
/// density changed since the session's last update are sampled afresh, seeing the kept
/// tiles around them, and every other tile keeps its dots. The cascade an exact generation
/// would add (the later phases and sessions that see the moved dots) is left for the
/// release, which is exact.
fn drag_pattern(
    sampler: &mut DragSampler,
    request: &PatternRequest,
    stop: Stop<'_>,
) -> Result<Option<Pattern>, PatternError> {
    sampler.preview_until(request, stop)
}

/// The live edit sessions.
pub struct DesignerSessions {
    max_sessions: usize,
    idle: Duration,
    sessions: Mutex<HashMap<Uuid, Arc<EditSession>>>,
}

impl Default for DesignerSessions {
    fn default() -> Self {
        DesignerSessions::with_limits(MAX_SESSIONS, Duration::from_secs(IDLE_SECONDS))
    }
}

impl std::fmt::Debug for DesignerSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesignerSessions")
            .field("max_sessions", &self.max_sessions)
            .field("idle", &self.idle)
            .field("open", &lock(&self.sessions).len())
            .finish()
    }
}

impl DesignerSessions {
    /// Sessions with other bounds than the defaults.
    pub fn with_limits(max_sessions: usize, idle: Duration) -> DesignerSessions {
        DesignerSessions {
            max_sessions: max_sessions.max(1),
            idle,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// How many sessions are open.
    pub fn len(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn open(&self, owner: Owner, client_file: Option<ClientInput>) -> Uuid {
        let id = Uuid::new_v4();
        let session = Arc::new(EditSession {
            owner,
            newest: AtomicU64::new(0),
            last_used: Mutex::new(Instant::now()),
            client_file,
            profile: Mutex::new(None),
            work: Mutex::new(Work::new()),
        });
        let mut all = lock(&self.sessions);
        all.retain(|_, s| s.idle_for() < self.idle);
        while all.len() >= self.max_sessions {
            let oldest = all.iter().max_by_key(|(_, s)| s.idle_for()).map(|(id, _)| *id);
            match oldest {
                Some(id) => all.remove(&id),
                None => break,
            };
        }
        all.insert(id, session);
        id
    }

    /// The owner's session `id`, marked used; unknown, expired or someone else's is a 404.
    fn get(&self, owner: Owner, id: Uuid) -> ApiResult<Arc<EditSession>> {
        let mut all = lock(&self.sessions);
        let session = all
            .get(&id)
            .filter(|s| s.owner == owner)
            .cloned()
            .ok_or_else(|| ApiError::not_found("designer session"))?;
        if session.idle_for() >= self.idle {
            all.remove(&id);
            return Err(ApiError::not_found("designer session"));
        }
        *lock(&session.last_used) = Instant::now();
        Ok(session)
    }

    fn close(&self, owner: Owner, id: Uuid) -> ApiResult<()> {
        self.get(owner, id)?;
        lock(&self.sessions).remove(&id);
        Ok(())
    }
}

/// Whose a session is: (clinic, user).
type Owner = (Uuid, Uuid);

fn owner(actor: &Actor) -> Owner {
    (actor.clinic_id(), actor.user_id())
}

struct EditSession {
    owner: Owner,
    /// The highest edit sequence number seen.
    newest: AtomicU64,
    last_used: Mutex<Instant>,
    /// The consultation's client file, when the design is planned for one.
    client_file: Option<ClientInput>,
    /// The client file read with the settings it was read with (read again when they change).
    profile: Mutex<Option<Arc<PlanInput>>>,
    /// What one computation at a time uses; locked on the blocking thread only.
    work: Mutex<Work>,
}

impl std::fmt::Debug for EditSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EditSession")
            .field("owner", &self.owner)
            .field("newest", &self.newest)
            .finish_non_exhaustive()
    }
}

impl EditSession {
    fn idle_for(&self) -> Duration {
        lock(&self.last_used).elapsed()
    }

    /// Whether a newer edit than `seq` has arrived.
    fn superseded(&self, seq: u64) -> Option<u64> {
        let newest = self.newest.load(Ordering::SeqCst);
        (newest > seq).then_some(newest)
    }
}

struct Work {
    sampler: DragSampler,
    full_areas: FullAreas,
    /// The last versions drawn, oldest first.
    versions: VecDeque<(u64, Arc<TiledDots>)>,
    next_version: u64,
}

impl Work {
    fn new() -> Work {
        Work {
            sampler: DragSampler::new(),
            full_areas: FullAreas::new(FULL_AREAS_KEPT),
            versions: VecDeque::new(),
            next_version: 1,
        }
    }
}

/// What the re-plan needs besides the design.
struct PlanInput {
    settings: Arc<Settings>,
    profile: ClientProfile,
    today: Date,
    start: Date,
}

/// An edit session was opened.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionAnswer {
    /// The session, for `POST /designer-sessions/{id}/edits`.
    pub id: Uuid,
    /// Seconds it is kept after its last use.
    pub idle_seconds: u64,
    /// The side of a delta's tiles, mm.
    pub tile_mm: u16,
}

/// What to open an edit session for.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    /// The consultation the design is drawn for: every answer then carries the plan's figures.
    #[serde(default)]
    pub consultation_id: Option<Uuid>,
}

/// One edit of the design.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditInput {
    /// The edit's sequence number in this session, increasing: an edit with a lower number
    /// than one already received is superseded.
    pub seq: u64,
    /// The version of the dots the browser holds (from an earlier answer's `delta.version`);
    /// null or unknown to the server: the answer holds every tile.
    #[serde(default)]
    pub base: Option<u64>,
    /// The pointer was let go: draw the pattern exactly, the dots `POST /pattern` gives.
    /// Otherwise the edit is a drag's preview: only the tiles whose density changed are
    /// drawn afresh.
    #[serde(default)]
    pub release: bool,
    /// The design as a pattern request (see `POST /pattern`).
    #[schema(value_type = follicle_pattern::PatternRequest)]
    pub request: Value,
}

/// Opens an edit session for the designer: the server keeps the dots it last sent, so each
/// edit is answered with the tiles that changed.
#[utoipa::path(post, path = "/designer-sessions", tag = "designs", request_body = SessionInput,
    responses((status = 201, body = SessionAnswer), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn open_session(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(input): JsonBody<SessionInput>,
) -> ApiResult<(StatusCode, Json<SessionAnswer>)> {
    let client_file = match input.consultation_id {
        None => None,
        Some(id) => {
            let c = state.store().consultation(&me.actor, id).await?;
            Some(ClientInput::from_consultation(&c).ok_or_else(|| {
                ApiError::invalid(
                    "consultation_id",
                    "this consultation kept no client file to design from",
                )
            })?)
        }
    };
    let id = state.designer().open(owner(&me.actor), client_file);
    Ok((
        StatusCode::CREATED,
        Json(SessionAnswer {
            id,
            idle_seconds: IDLE_SECONDS,
            tile_mm: binary::TILE_MM,
        }),
    ))
}

/// Closes an edit session (the designer page is left).
#[utoipa::path(delete, path = "/designer-sessions/{id}", tag = "designs",
    params(("id" = Uuid, Path, description = "The edit session")),
    responses((status = 204, description = "Closed"), (status = 404, body = ErrorBody)))]
pub async fn close_session(State(state): State<AppState>, me: SignedIn, Id(id): Id) -> ApiResult<StatusCode> {
    state.designer().close(owner(&me.actor), id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// One edit of the design in an edit session: the dots that changed since the version the
/// browser holds, as a delta in the binary format (`application/vnd.follicle.pattern`,
/// version 2: the tiles replaced and their dots), with the plan's figures in its header when
/// the session is for a consultation. An edit superseded by a newer one of the same session
/// (a higher `seq`) before or while it was drawn answers 409 with code `superseded`, and its
/// dots are not kept.
#[utoipa::path(post, path = "/designer-sessions/{id}/edits", tag = "designs", request_body = EditInput,
    params(("id" = Uuid, Path, description = "The edit session")),
    responses(
        (status = 200, description = "The delta", content_type = "application/vnd.follicle.pattern", body = crate::wire::Binary),
        (status = 404, description = "No such session (unknown, expired, or another user's)", body = ErrorBody),
        (status = 409, description = "Superseded by a newer edit (code `superseded`)", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn edit(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(input): JsonBody<EditInput>,
) -> ApiResult<Response> {
    let started = Instant::now();
    let session = state.designer().get(owner(&me.actor), id)?;
    let request = pattern_request(input.request, "request")?;
    let seq = input.seq;
    session.newest.fetch_max(seq, Ordering::SeqCst);
    if let Some(newest) = session.superseded(seq) {
        return Err(superseded(seq, newest));
    }
    let plan = match &session.client_file {
        None => None,
        Some(file) => Some(plan_input(&state, &me.actor, &session, file).await?),
    };
    let edit = Edit {
        seq,
        base: input.base,
        release: input.release,
        request,
    };
    let permit = crate::limits::heavy().acquire().await?;
    // Dropped with this request (the browser aborted it or the connection closed): the
    // drawing stops at its next tile.
    let abandoned = Arc::new(AtomicBool::new(false));
    let _stop_when_dropped = StopWhenDropped(abandoned.clone());
    let answer = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        compute(&session, edit, plan.as_deref(), &abandoned)
    })
    .await
    .map_err(ApiError::internal)??;
    // The server's share of the round trip (the page reports it beside the round trip), and
    // its parts.
    let timing = answer.spent.server_timing(started.elapsed());
    Ok((
        [
            (header::CONTENT_TYPE, binary::MEDIA_TYPE.to_owned()),
            (header::HeaderName::from_static("server-timing"), timing),
        ],
        answer.bytes,
    )
        .into_response())
}

/// The client file read with the clinic's settings as they are now (kept while they stay).
async fn plan_input(
    state: &AppState,
    actor: &Actor,
    session: &EditSession,
    file: &ClientInput,
) -> ApiResult<Arc<PlanInput>> {
    let settings = state.clinic_settings(actor).await?;
    if let Some(p) = lock(&session.profile).as_ref()
        && Arc::ptr_eq(&p.settings, &settings)
    {
        return Ok(p.clone());
    }
    let (profile, today, start) = file.read(&settings)?;
    let input = Arc::new(PlanInput {
        settings,
        profile,
        today,
        start,
    });
    *lock(&session.profile) = Some(input.clone());
    Ok(input)
}

/// Sets its flag when dropped.
struct StopWhenDropped(Arc<AtomicBool>);

impl Drop for StopWhenDropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

struct Edit {
    seq: u64,
    base: Option<u64>,
    release: bool,
    request: PatternRequest,
}

/// 409: a newer edit of the session arrived.
fn superseded(seq: u64, newest: u64) -> ApiError {
    not_drawn(
        "superseded",
        format!("edit {seq} was superseded by edit {newest}: its dots were not kept"),
    )
}

/// 409: the edit's request was dropped while it was drawn (nobody reads this answer).
fn abandoned_edit(seq: u64) -> ApiError {
    not_drawn(
        "abandoned",
        format!("edit {seq} was stopped: its request was closed before it was drawn"),
    )
}

/// 409 with `code`, about the edit's `seq`: an edit that was not drawn.
fn not_drawn(code: &'static str, message: String) -> ApiError {
    ApiError {
        status: StatusCode::CONFLICT,
        detail: ErrorDetail {
            code,
            field: Some("seq".into()),
            message,
            line: None,
            column: None,
            retry_after_seconds: None,
        },
    }
}

/// An edit's delta, and where the server's time over it went.
#[derive(Debug)]
struct Answer {
    bytes: Vec<u8>,
    spent: Spent,
}

/// The parts of an edit's computation, as its `Server-Timing` header gives them.
#[derive(Debug)]
struct Spent {
    /// The dots drawn.
    draw: Duration,
    /// The plan priced from them (beside `tiles`; zero without a client file).
    plan: Duration,
    /// The dots cut into the delta's tiles.
    tiles: Duration,
    /// The delta encoded.
    encode: Duration,
}

impl Spent {
    /// The `Server-Timing` header: `edit` (the `whole` edit, waiting included), then the
    /// parts, in ms.
    fn server_timing(&self, whole: Duration) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        format!(
            "edit;dur={:.1}, draw;dur={:.1}, plan;dur={:.1}, tiles;dur={:.1}, encode;dur={:.1}",
            ms(whole),
            ms(self.draw),
            ms(self.plan),
            ms(self.tiles),
            ms(self.encode)
        )
    }
}

/// Draws an edit (on a blocking thread; one at a time per session) and encodes its delta.
/// The drawing stops when a newer edit arrives or `abandoned` is set.
fn compute(
    session: &EditSession,
    edit: Edit,
    plan: Option<&PlanInput>,
    abandoned: &AtomicBool,
) -> ApiResult<Answer> {
    compute_with(session, edit, plan, abandoned, drag_pattern)
}

/// [`compute`] with the drag's sampler given (tests make a newer edit arrive during it).
fn compute_with(
    session: &EditSession,
    edit: Edit,
    plan: Option<&PlanInput>,
    abandoned: &AtomicBool,
    draw: impl FnOnce(&mut DragSampler, &PatternRequest, Stop<'_>) -> Result<Option<Pattern>, PatternError>,
) -> ApiResult<Answer> {
    let mut work = session.work.lock().unwrap_or_else(|poisoned| {
        // A computation panicked half-way: the sampler's state may be half updated, so start
        // afresh (the browser's next base is unknown and it gets every tile).
        let mut work = poisoned.into_inner();
        *work = Work::new();
        work
    });
    session.work.clear_poison();
    if let Some(newest) = session.superseded(edit.seq) {
        return Err(superseded(edit.seq, newest));
    }
    let Work {
        sampler,
        full_areas,
        versions,
        next_version,
    } = &mut *work;
    let request = &edit.request;
    let seq = edit.seq;
    let stop = || abandoned.load(Ordering::Relaxed) || session.superseded(seq).is_some();
    // The dots first, on the sampler's threads alone (a thread beside them takes a core
    // from the sampler's two).
    let (pattern, draw_time) = timed(|| {
        if edit.release {
            // Exact: the same dots as `follicle_pattern::generate` (the cache reuses a tile
            // only when everything it was made from is unchanged, also after previews).
            sampler.generate_until(request, &stop)
        } else {
            draw(sampler, request, &stop)
        }
    });
    let pattern = pattern.map_err(|e| ApiError::invalid(format!("request.{}", e.field()), e.to_string()))?;
    let Some(pattern) = pattern else {
        return Err(match session.superseded(seq) {
            Some(newest) => superseded(seq, newest),
            None => abandoned_edit(seq),
        });
    };
    // Then, side by side, the plan priced from the dots (the quote counts the dots drawn; a
    // moved hairline is a new bald head to count on every edit) and the dots cut into the
    // delta's tiles.
    let (priced, (dots, tiles_time)) = std::thread::scope(|s| {
        let pricing = plan.map(|p| s.spawn(|| timed(|| plan_figures(p, request, &pattern, full_areas))));
        let tiled = timed(|| Arc::new(TiledDots::of(&pattern)));
        let priced = pricing.map(|thread| {
            thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        (priced, tiled)
    });
    let (figures, plan_time) = priced.map_or((None, Duration::ZERO), |(f, time)| (Some(f), time));
    if let Some(newest) = session.superseded(edit.seq) {
        return Err(superseded(edit.seq, newest));
    }
    let base = edit
        .base
        .and_then(|b| versions.iter().find(|(v, _)| *v == b))
        .map(|(v, d)| (*v, d.as_ref()));
    let version = *next_version;
    let mut extra = Map::new();
    if let Some(figures) = figures {
        extra.insert("plan".into(), figures);
    }
    let (bytes, encode_time) = timed(|| binary::encode_delta(&pattern, &dots, base, version, extra));
    let bytes = bytes.map_err(ApiError::internal)?;
    let spent = Spent {
        draw: draw_time,
        plan: plan_time,
        tiles: tiles_time,
        encode: encode_time,
    };
    *next_version += 1;
    versions.push_back((version, dots));
    while versions.len() > VERSIONS_KEPT {
        versions.pop_front();
    }
    Ok(Answer { bytes, spent })
}

/// What `f` gives, and how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    (f(), started.elapsed())
}

/// The plan's figures for a design (what `POST /consultations/{id}/design-plan` answers,
/// without the whole plan), or the reason it cannot be planned.
fn plan_figures(
    p: &PlanInput,
    design: &PatternRequest,
    drawn: &Pattern,
    full_areas: &mut FullAreas,
) -> Value {
    let planned = treatment::replan_drawn(
        design,
        drawn,
        &p.profile,
        &p.settings,
        p.today,
        p.start,
        full_areas,
    )
    .map_err(|e| match e.field() {
        "zones" => ApiError::invalid("zones", e.to_string()),
        _ => crate::compute::drawing_error(e),
    });
    match planned {
        Ok(t) => {
            let answer = DesignPlanAnswer::from(follicle_store::PlanRecord::from_core(
                &t.plan,
                usecase::issue_today(&p.settings),
            ));
            serde_json::json!({
                "sessions": answer.sessions,
                "total_hours": answer.total_hours,
                "total_dots": answer.total_dots,
                "total": answer.total,
                "currency": answer.currency,
            })
        }
        Err(e) => error_figures(&e),
    }
}

fn error_figures(e: &ApiError) -> Value {
    serde_json::json!({"error": {"field": e.detail.field, "message": e.detail.message}})
}

/// A panic while holding one of these locks leaves data that is still consistent: the
/// versions and caches are only replaced whole.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use follicle_pattern::{HairLoss, NorwoodStage, ZonesSpec};

    fn session() -> EditSession {
        EditSession {
            owner: (Uuid::new_v4(), Uuid::new_v4()),
            newest: AtomicU64::new(0),
            last_used: Mutex::new(Instant::now()),
            client_file: None,
            profile: Mutex::new(None),
            work: Mutex::new(Work::new()),
        }
    }

    /// A request still waiting for its answer.
    fn going() -> AtomicBool {
        AtomicBool::new(false)
    }

    fn edit(seq: u64, base: Option<u64>) -> Edit {
        Edit {
            seq,
            base,
            release: false,
            request: PatternRequest {
                zones: ZonesSpec::Stage {
                    stage: HairLoss::Norwood {
                        stage: NorwoodStage::II,
                    },
                },
                ..PatternRequest::default()
            },
        }
    }

    #[test]
    fn an_edit_superseded_while_it_is_drawn_is_dropped_and_not_kept() {
        let s = session();
        s.newest.store(1, Ordering::SeqCst);
        let first = binary::decode_delta(&compute(&s, edit(1, None), None, &going()).unwrap().bytes).unwrap();
        assert_eq!((first.version, first.base), (1, None));
        // Edit 2 is being drawn when edit 3 arrives: its drawing stops (no dots).
        s.newest.store(2, Ordering::SeqCst);
        let e = compute_with(&s, edit(2, Some(1)), None, &going(), |sampler, request, stop| {
            s.newest.store(3, Ordering::SeqCst);
            let drawn = drag_pattern(sampler, request, stop);
            assert!(matches!(drawn, Ok(None)), "the superseded drawing stops");
            drawn
        })
        .unwrap_err();
        assert_eq!((e.status, e.detail.code), (StatusCode::CONFLICT, "superseded"));
        assert_eq!(e.detail.field.as_deref(), Some("seq"));
        {
            let work = lock(&s.work);
            assert_eq!(work.versions.len(), 1, "the superseded pattern is not kept");
            assert_eq!(work.next_version, 2);
        }
        // Superseded before it starts: not drawn at all.
        let e = compute_with(&s, edit(2, Some(1)), None, &going(), |_, _, _| {
            panic!("a superseded edit is not drawn")
        })
        .unwrap_err();
        assert_eq!(e.detail.code, "superseded");
        // Edit 3 goes through, from the kept version 1; the sampler kept version 1's
        // generation through the stopped one, so it re-samples nothing.
        let third =
            binary::decode_delta(&compute(&s, edit(3, Some(1)), None, &going()).unwrap().bytes).unwrap();
        assert_eq!((third.version, third.base), (2, Some(1)));
        assert!(third.tiles.is_empty(), "the same design as version 1");
        assert_eq!(lock(&s.work).sampler.stats().resampled, 0);
    }

    #[test]
    fn an_edit_whose_request_is_dropped_stops() {
        let s = session();
        s.newest.store(1, Ordering::SeqCst);
        compute(&s, edit(1, None), None, &going()).unwrap();
        let mut moved = edit(2, Some(1));
        moved.request.density_per_cm2.crown += 10.0;
        // The request dropped while its edit is drawn: the drag's drawing stops.
        let dropped = Arc::new(AtomicBool::new(false));
        let e = compute_with(&s, moved, None, &dropped.clone(), |sampler, request, stop| {
            drop(StopWhenDropped(dropped.clone()));
            let drawn = drag_pattern(sampler, request, stop);
            assert!(matches!(drawn, Ok(None)), "the abandoned drawing stops");
            drawn
        })
        .unwrap_err();
        assert_eq!((e.status, e.detail.code), (StatusCode::CONFLICT, "abandoned"));
        // A release (a full generation) stops the same way, before any tile.
        let mut release = edit(2, Some(1));
        release.release = true;
        let e = compute(&s, release, None, &AtomicBool::new(true)).unwrap_err();
        assert_eq!(e.detail.code, "abandoned");
        assert_eq!(lock(&s.work).versions.len(), 1, "nothing stopped is kept");
    }

    #[test]
    fn a_panic_while_drawing_starts_the_session_afresh() {
        let s = session();
        compute(&s, edit(1, None), None, &going()).unwrap();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            compute_with(&s, edit(2, Some(1)), None, &going(), |_, _, _| {
                panic!("a sampler bug")
            })
        }));
        assert!(panicked.is_err());
        // The versions are forgotten: base 1 is unknown and the answer holds every tile.
        let next =
            binary::decode_delta(&compute(&s, edit(3, Some(1)), None, &going()).unwrap().bytes).unwrap();
        assert_eq!((next.version, next.base), (1, None));
        assert!(!next.tiles.is_empty());
    }

    #[test]
    fn sessions_are_bounded_and_expire() {
        let sessions = DesignerSessions::with_limits(2, Duration::from_secs(IDLE_SECONDS));
        let me = (Uuid::new_v4(), Uuid::new_v4());
        let a = sessions.open(me, None);
        let b = sessions.open(me, None);
        std::thread::sleep(Duration::from_millis(5));
        sessions.get(me, a).unwrap();
        let c = sessions.open(me, None);
        assert_eq!(sessions.len(), 2);
        assert!(sessions.get(me, a).is_ok(), "used last: kept");
        assert_eq!(sessions.get(me, b).unwrap_err().status, StatusCode::NOT_FOUND);
        assert!(sessions.get(me, c).is_ok());
        let colleague = (me.0, Uuid::new_v4());
        assert_eq!(
            sessions.get(colleague, c).unwrap_err().status,
            StatusCode::NOT_FOUND
        );

        let short = DesignerSessions::with_limits(4, Duration::ZERO);
        let d = short.open(me, None);
        assert_eq!(short.get(me, d).unwrap_err().status, StatusCode::NOT_FOUND);
        assert!(short.is_empty());
    }
}
