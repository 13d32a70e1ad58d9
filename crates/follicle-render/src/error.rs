//! The renderer's errors: every one names the field, the value and what is allowed.

/// What can go wrong when rendering.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A request value is out of range or inconsistent.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as a dotted path.
        field: String,
        /// What was given and what is allowed.
        message: String,
    },
    /// A photo cannot be used.
    #[error("photo: {0}")]
    Photo(String),
    /// The head mesh cannot be read (names the line and what is wrong).
    #[error("head mesh: {0}")]
    Mesh(String),
    /// Encoding the output failed.
    #[error("encoding the image failed: {0}")]
    Encode(String),
    /// The render was asked to stop before it finished ([`crate::Scene::render_until`]).
    #[error("the render was stopped before it finished")]
    Stopped,
}

impl RenderError {
    /// An invalid-field error.
    pub fn invalid(field: &str, message: impl Into<String>) -> RenderError {
        RenderError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }
}
