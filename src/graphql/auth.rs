//! Who is calling: the API key from `Authorization: Bearer <key>`, checked per field by guards.

use super::error::code;
use crate::store::{ApiKey, KeyRole};
use async_graphql::{Context, Error, ErrorExtensions, Guard, Result};

#[derive(Clone, Debug)]
pub enum Caller {
    Anonymous,
    Key(ApiKey),
    /// A key was sent, but it is unknown or revoked.
    BadKey,
}

impl Caller {
    /// The name recorded in revision histories.
    pub fn name(&self) -> String {
        match self {
            Caller::Key(k) => format!("key:{}", k.name),
            _ => "anonymous".into(),
        }
    }
}

pub fn unauthenticated(message: &str) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", code::UNAUTHENTICATED))
}

/// Requires a live key of at least `role`.
pub struct RoleGuard(pub KeyRole);

impl RoleGuard {
    pub fn check_caller(&self, caller: &Caller) -> Result<()> {
        match caller {
            Caller::Anonymous => Err(unauthenticated(
                "this needs an API key: send Authorization: Bearer <key>",
            )),
            Caller::BadKey => Err(unauthenticated("the API key is unknown or revoked")),
            Caller::Key(k) if k.role < self.0 => Err(Error::new(format!(
                "this needs a key with the {} role; key '{}' is a {}",
                self.0, k.name, k.role
            ))
            .extend_with(|_, e| e.set("code", code::FORBIDDEN))),
            Caller::Key(_) => Ok(()),
        }
    }
}

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        self.check_caller(ctx.data_unchecked::<Caller>())
    }
}
