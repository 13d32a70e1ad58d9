//! Face landmarks for the studio and the API: the face models are loaded once per server
//! process, the first time they are needed, and shared; each search runs on a blocking thread,
//! at most [`MAX_SEARCHES`] at a time (a search holds a decoded photo and keeps a core busy for
//! tens of milliseconds), the others wait their turn.

use std::sync::OnceLock;

use follicle_vision::{FaceLandmarker, FaceLandmarks, VisionError, decode_upright};
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

/// Landmark searches running at once; more wait.
pub const MAX_SEARCHES: usize = 2;

static LANDMARKER: OnceLock<Result<FaceLandmarker, VisionError>> = OnceLock::new();
static SEARCHES: Semaphore = Semaphore::const_new(MAX_SEARCHES);

/// The shared landmarker, loaded on first use. A model that does not load is remembered as
/// such (and logged once): every search then answers that the points must be placed by hand.
fn landmarker() -> Result<&'static FaceLandmarker, VisionError> {
    LANDMARKER
        .get_or_init(|| {
            let loaded = FaceLandmarker::new();
            if let Err(e) = &loaded {
                tracing::error!(error = %e, "the face models did not load; landmarks must be placed by hand");
            }
            loaded
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Why landmarks were not found, as the API says it: the photo's problems are a 422 on
/// `photo` whose message tells the practitioner to place the points by hand; a model that
/// cannot be used is a logged 500.
pub fn vision_error(e: VisionError) -> ApiError {
    match e {
        VisionError::Model(_) => ApiError::internal(e),
        other => ApiError::invalid("photo", other.to_string()),
    }
}

/// Finds the landmarks on a stored photo's bytes, turned upright by the orientation the store
/// kept.
pub async fn find(bytes: Vec<u8>, orientation: Option<u8>) -> ApiResult<FaceLandmarks> {
    let _turn = SEARCHES.acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || {
        let photo = decode_upright(&bytes, orientation)?;
        drop(bytes);
        landmarker()?.find(&photo)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(vision_error)
}
