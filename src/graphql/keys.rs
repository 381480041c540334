//! API keys through the API, for admins: create, list and revoke keys while the server runs.
//! A new key works from the next request on; a revoked or expired one fails from the next
//! request on, and WebSockets opened with it are closed. Secrets are shown once, at creation.

use super::auth::{Caller, RoleGuard};
use super::error::code;
use super::loader::Reader;
use crate::keyring::KeyRing;
use crate::store::{ApiKey, KeyError, KeyRole};
use async_graphql::{Context, Enum, Error, ErrorExtensions, Object, Result, SimpleObject};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "ApiKeyRole")]
pub enum ApiKeyRole {
    /// Creates, updates and deletes facts.
    Writer,
    /// A writer that may also change countries, cascade deletes and manage keys.
    Admin,
}

impl From<ApiKeyRole> for KeyRole {
    fn from(role: ApiKeyRole) -> Self {
        match role {
            ApiKeyRole::Writer => KeyRole::Writer,
            ApiKeyRole::Admin => KeyRole::Admin,
        }
    }
}

impl From<KeyRole> for ApiKeyRole {
    fn from(role: KeyRole) -> Self {
        match role {
            KeyRole::Writer => ApiKeyRole::Writer,
            KeyRole::Admin => ApiKeyRole::Admin,
        }
    }
}

/// An API key as the server keeps it: never its secret.
pub struct ApiKeyObj(ApiKey);

fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

#[Object(name = "ApiKey")]
impl ApiKeyObj {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn role(&self) -> ApiKeyRole {
        self.0.role.into()
    }
    /// RFC 3339.
    async fn created_at(&self) -> String {
        rfc3339(self.0.created_ms)
    }
    /// RFC 3339; null: never.
    async fn expires_at(&self) -> Option<String> {
        self.0.expires_ms.map(rfc3339)
    }
    async fn revoked(&self) -> bool {
        self.0.revoked
    }
    /// Whether it authenticates now.
    async fn live(&self) -> bool {
        self.0.is_live(crate::store::keys::now_ms())
    }
}

/// A new key and its secret, which is shown this once.
#[derive(SimpleObject)]
pub struct CreatedApiKey {
    pub key: ApiKeyObj,
    /// Send it as `Authorization: Bearer <secret>`. It is not kept, only its SHA-256.
    pub secret: String,
}

fn keyring<'a>(ctx: &Context<'a>) -> &'a Arc<KeyRing> {
    ctx.data_unchecked::<Arc<KeyRing>>()
}

fn key_error(e: KeyError) -> Error {
    let code = match &e {
        KeyError::Exists(_) => code::CONFLICT,
        KeyError::Unknown(_) => code::NOT_FOUND,
        KeyError::BadName => code::BAD_USER_INPUT,
        KeyError::Random(_) | KeyError::Store(_) => {
            tracing::error!(error = %e, "an API key could not be changed");
            return Error::new("internal error").extend_with(|_, x| x.set("code", code::INTERNAL));
        }
    };
    Error::new(e.to_string()).extend_with(|_, x| x.set("code", code))
}

/// Runs a blocking key-ring call off the async worker.
async fn blocking<T: Send + 'static>(
    ctx: &Context<'_>,
    job: impl FnOnce(&KeyRing) -> Result<T, KeyError> + Send + 'static,
) -> Result<T> {
    let ring = keyring(ctx).clone();
    super::error::off_worker("key", move || job(&ring))
        .await?
        .map_err(key_error)
}

fn admin(ctx: &Context<'_>) -> Result<()> {
    RoleGuard(KeyRole::Admin).check_caller(ctx.data_unchecked::<Caller>())
}

/// Every key, revoked ones included, by name.
pub async fn list(ctx: &Context<'_>) -> Result<Vec<ApiKeyObj>> {
    admin(ctx)?;
    // Only admins may see this: the response cache, shared by all callers, must not keep it.
    ctx.data_unchecked::<Reader>().mark_private();
    let keys = blocking(ctx, |ring| ring.list().map_err(KeyError::from)).await?;
    Ok(keys.into_iter().map(ApiKeyObj).collect())
}

pub async fn create(
    ctx: &Context<'_>,
    name: String,
    role: ApiKeyRole,
    expires_at: Option<String>,
) -> Result<CreatedApiKey> {
    admin(ctx)?;
    let expires_ms = match expires_at {
        None => None,
        Some(at) => {
            let when = humantime::parse_rfc3339_weak(at.trim()).map_err(|e| {
                Error::new(format!("`expiresAt` is not an RFC 3339 time: {e}"))
                    .extend_with(|_, x| x.set("code", code::BAD_USER_INPUT))
            })?;
            if when <= SystemTime::now() {
                return Err(Error::new("`expiresAt` is in the past")
                    .extend_with(|_, x| x.set("code", code::BAD_USER_INPUT)));
            }
            when.duration_since(UNIX_EPOCH)
                .ok()
                .map(|d| d.as_millis() as u64)
        }
    };
    let (secret, key) =
        blocking(ctx, move |ring| ring.create(&name, role.into(), expires_ms)).await?;
    tracing::info!(key = %key.name, role = %key.role, "API key created");
    Ok(CreatedApiKey {
        key: ApiKeyObj(key),
        secret,
    })
}

pub async fn revoke(ctx: &Context<'_>, name: String) -> Result<ApiKeyObj> {
    admin(ctx)?;
    let key = blocking(ctx, move |ring| ring.revoke(&name)).await?;
    tracing::info!(key = %key.name, "API key revoked");
    Ok(ApiKeyObj(key))
}
