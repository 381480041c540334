//! API keys: the store keeps each key's SHA-256 and never the key itself.

use super::{Store, StoreError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Ordered: a later role may do all an earlier one may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KeyRole {
    /// Creates, updates and deletes facts.
    Writer,
    /// A writer that may also cascade deletes and change countries.
    Admin,
}

impl std::str::FromStr for KeyRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "writer" => Ok(KeyRole::Writer),
            "admin" => Ok(KeyRole::Admin),
            other => Err(format!("unknown role '{other}'; use writer or admin")),
        }
    }
}

impl std::fmt::Display for KeyRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyRole::Writer => "writer",
            KeyRole::Admin => "admin",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub name: String,
    pub role: KeyRole,
    pub created_ms: u64,
    pub revoked: bool,
    pub(crate) hash: [u8; 32],
    /// After this instant (ms since the epoch) the key no longer authenticates.
    pub expires_ms: Option<u64>,
}

impl ApiKey {
    /// The SHA-256 of its secret.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    /// Whether it authenticates at `now_ms`.
    pub fn is_live(&self, now_ms: u64) -> bool {
        !self.revoked && self.expires_ms.is_none_or(|at| now_ms < at)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("a key named '{0}' exists already")]
    Exists(String),
    #[error("no key named '{0}'")]
    Unknown(String),
    #[error("a key name is 1 to 64 letters, digits, '-', '_' or '.'")]
    BadName,
    #[error("no randomness from the operating system: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The SHA-256 of a secret, as keys are looked up by.
pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl Store {
    /// Makes a key; returns the secret, which is shown once and not kept.
    pub fn create_key(&self, name: &str, role: KeyRole) -> Result<String, KeyError> {
        self.create_key_until(name, role, None)
            .map(|(secret, _)| secret)
    }

    /// Makes a key that stops working at `expires_ms` (if given); returns the secret, shown
    /// once and not kept, and the key.
    pub fn create_key_until(
        &self,
        name: &str,
        role: KeyRole,
        expires_ms: Option<u64>,
    ) -> Result<(String, ApiKey), KeyError> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !valid {
            return Err(KeyError::BadName);
        }
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| KeyError::Random(e.to_string()))?;
        let secret = format!("dg_{}", URL_SAFE_NO_PAD.encode(random));
        let key = ApiKey {
            name: name.to_string(),
            role,
            created_ms: now_ms(),
            revoked: false,
            hash: hash(&secret),
            expires_ms,
        };
        let _guard = self.lock_writes();
        if self.backend.api_key(name)?.is_some() {
            return Err(KeyError::Exists(name.to_string()));
        }
        self.backend.save_api_key(&key)?;
        Ok((secret, key))
    }

    pub fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        self.backend.api_keys()
    }

    /// Revokes a key for good; it stays listed, marked revoked. Returns it.
    pub fn revoke_key(&self, name: &str) -> Result<ApiKey, KeyError> {
        let _guard = self.lock_writes();
        let Some(mut key) = self.backend.api_key(name)? else {
            return Err(KeyError::Unknown(name.to_string()));
        };
        key.revoked = true;
        self.backend.save_api_key(&key)?;
        Ok(key)
    }

    /// The live key a secret belongs to.
    pub fn authenticate(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        let key = self.backend.api_key_by_hash(&hash(secret.trim()))?;
        Ok(key.filter(|k| k.is_live(now_ms())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_authenticate_until_revoked_and_only_hashes_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let secret = store.create_key("ci-bot", KeyRole::Writer).unwrap();
        assert!(secret.starts_with("dg_") && secret.len() > 40);
        assert!(matches!(
            store.create_key("ci-bot", KeyRole::Admin),
            Err(KeyError::Exists(_))
        ));
        assert!(matches!(
            store.create_key("bad name", KeyRole::Admin),
            Err(KeyError::BadName)
        ));
        assert_eq!(
            store.authenticate(&secret).unwrap().unwrap().role,
            KeyRole::Writer
        );
        assert!(store.authenticate("dg_wrong").unwrap().is_none());
        store.revoke_key("ci-bot").unwrap();
        assert!(store.authenticate(&secret).unwrap().is_none());
        assert!(store.api_keys().unwrap()[0].revoked);
        assert!(matches!(
            store.revoke_key("nobody"),
            Err(KeyError::Unknown(_))
        ));
    }

    #[test]
    fn expired_keys_do_not_authenticate() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (secret, key) = store
            .create_key_until("brief", KeyRole::Writer, Some(now_ms() - 1))
            .unwrap();
        assert!(!key.is_live(now_ms()));
        assert!(store.authenticate(&secret).unwrap().is_none());
        let (secret, _) = store
            .create_key_until("long", KeyRole::Writer, Some(now_ms() + 60_000))
            .unwrap();
        assert!(store.authenticate(&secret).unwrap().is_some());
    }
}
