//! The one place where failures become GraphQL errors with `extensions.code`.

use crate::facts::FactErrorKind;
use crate::ingest::queue::QueueError;
use crate::ingest::write::WriteFailure;
use crate::search::SearchError;
use crate::store::{StoreError, WriteError};
use async_graphql::{Error, ErrorExtensions};
use std::sync::Arc;

/// Stable error codes; clients switch on these.
pub mod code {
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const INTERNAL: &str = "INTERNAL_SERVER_ERROR";
    pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const TIMEOUT: &str = "TIMEOUT";
    pub const RESPONSE_TOO_LARGE: &str = "RESPONSE_TOO_LARGE";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const TOO_MANY_SUBSCRIPTIONS: &str = "TOO_MANY_SUBSCRIPTIONS";
    pub const REQUEST_TIMEOUT: &str = "REQUEST_TIMEOUT";
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadUserInput(String),
    #[error(transparent)]
    Write(#[from] WriteFailure),
    #[error("internal error")]
    Store(#[from] Arc<StoreError>),
    #[error("internal error")]
    Search(#[from] Arc<SearchError>),
    #[error("internal error")]
    Queue(#[from] QueueError),
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        ApiError::Search(Arc::new(e))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Store(Arc::new(e))
    }
}

impl ApiError {
    pub fn bad_input(message: impl Into<String>) -> Self {
        ApiError::BadUserInput(message.into())
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> Error {
        if let ApiError::Write(failure) = self {
            return write_error(failure);
        }
        let code = match self {
            ApiError::BadUserInput(_) | ApiError::Write(_) => code::BAD_USER_INPUT,
            ApiError::Store(e) => {
                // Details go to the log, not to the client.
                tracing::error!(error = %e, "store failure while resolving a query");
                code::INTERNAL
            }
            ApiError::Search(e) => {
                tracing::error!(error = %e, "search failure while resolving a query");
                code::INTERNAL
            }
            ApiError::Queue(e) => {
                tracing::error!(error = %e, "a write did not run");
                code::INTERNAL
            }
        };
        Error::new(self.to_string()).extend_with(|_, ext| ext.set("code", code))
    }
}

/// A refused write: its code, the field path of the input at fault, the referrers in the way.
fn write_error(failure: &WriteFailure) -> Error {
    let (code, path, referrers) = match failure {
        WriteFailure::Fact(e) => (
            match e.kind {
                FactErrorKind::Invalid => code::BAD_USER_INPUT,
                FactErrorKind::NotFound => code::NOT_FOUND,
                FactErrorKind::Conflict => code::CONFLICT,
            },
            Some(e.path.clone()),
            Vec::new(),
        ),
        WriteFailure::Write(WriteError::NotFound(_)) => (code::NOT_FOUND, None, Vec::new()),
        WriteFailure::Write(WriteError::Dangling { .. }) => (code::NOT_FOUND, None, Vec::new()),
        WriteFailure::Write(WriteError::AlreadyExists(_) | WriteError::Conflict(_)) => {
            (code::CONFLICT, None, Vec::new())
        }
        WriteFailure::Write(WriteError::Referenced { referrers, .. }) => (
            code::CONFLICT,
            None,
            referrers.iter().map(|r| super::id::encode(r).0).collect(),
        ),
        WriteFailure::Forbidden { .. } => (code::FORBIDDEN, None, Vec::new()),
        WriteFailure::Write(WriteError::Store(e)) => {
            tracing::error!(error = %e, "store failure while writing");
            return Error::new("internal error")
                .extend_with(|_, ext| ext.set("code", code::INTERNAL));
        }
    };
    Error::new(failure.to_string()).extend_with(|_, ext| {
        ext.set("code", code);
        if let Some(path) = &path {
            ext.set("field", path.as_str());
        }
        if !referrers.is_empty() {
            ext.set("referrers", referrers.clone());
        }
    })
}

/// Runs blocking work (a store or key-ring call that may wait on the disk) on the blocking
/// pool, off the async worker. A task that panicked is an internal error, logged with `what`.
pub async fn off_worker<T: Send + 'static>(
    what: &str,
    job: impl FnOnce() -> T + Send + 'static,
) -> async_graphql::Result<T> {
    actix_web::rt::task::spawn_blocking(job).await.map_err(|e| {
        tracing::error!(error = %e, "a {what} task failed");
        Error::new("internal error").extend_with(|_, ext| ext.set("code", code::INTERNAL))
    })
}

/// `?`-friendly conversion of domain and store failures into coded GraphQL errors.
pub trait OrGqlError<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T, E: Into<ApiError>> OrGqlError<T> for Result<T, E> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.into().extend())
    }
}
