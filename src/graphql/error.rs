//! The one place where failures become GraphQL errors with `extensions.code`.

use crate::store::StoreError;
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
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadUserInput(String),
    #[error("internal error")]
    Store(#[from] Arc<StoreError>),
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
        let code = match self {
            ApiError::BadUserInput(_) => code::BAD_USER_INPUT,
            ApiError::Store(e) => {
                // Details go to the log, not to the client.
                tracing::error!(error = %e, "store failure while resolving a query");
                code::INTERNAL
            }
        };
        Error::new(self.to_string()).extend_with(|_, ext| ext.set("code", code))
    }
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
