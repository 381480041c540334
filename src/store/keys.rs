//! API keys: the store keeps each key's SHA-256 and never the key itself.

use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const KEYS: &str = "keys";
pub const KEY_HASHES: &str = "key_hashes";

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
    hash: [u8; 32],
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

fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl Store {
    /// Makes a key; returns the secret, which is shown once and not kept.
    pub fn create_key(&self, name: &str, role: KeyRole) -> Result<String, KeyError> {
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
            created_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            revoked: false,
            hash: hash(&secret),
        };
        let _guard = self.lock_writes();
        if self
            .tree(KEYS)?
            .contains_key(name.as_bytes())
            .map_err(StoreError::from)?
        {
            return Err(KeyError::Exists(name.to_string()));
        }
        let mut batch = Batch::default();
        batch.put(KEYS, name.as_bytes(), codec::encode(&key)?);
        batch.put(KEY_HASHES, key.hash.to_vec(), name.as_bytes().to_vec());
        self.apply(&batch)?;
        Ok(secret)
    }

    pub fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        self.tree(KEYS)?
            .iter()
            .values()
            .map(|v| codec::decode(&v?))
            .collect()
    }

    /// Revokes a key for good; it stays listed, marked revoked.
    pub fn revoke_key(&self, name: &str) -> Result<(), KeyError> {
        let _guard = self.lock_writes();
        let tree = self.tree(KEYS)?;
        let mut key: ApiKey = match tree.get(name.as_bytes()).map_err(StoreError::from)? {
            Some(v) => codec::decode(&v)?,
            None => return Err(KeyError::Unknown(name.to_string())),
        };
        key.revoked = true;
        let mut batch = Batch::default();
        batch.put(KEYS, name.as_bytes(), codec::encode(&key)?);
        batch.remove(KEY_HASHES, key.hash.to_vec());
        self.apply(&batch)?;
        Ok(())
    }

    /// The live key a secret belongs to.
    pub fn authenticate(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        let Some(name) = self.tree(KEY_HASHES)?.get(hash(secret.trim()))? else {
            return Ok(None);
        };
        let key: Option<ApiKey> = self
            .tree(KEYS)?
            .get(name)?
            .map(|v| codec::decode(&v))
            .transpose()?;
        Ok(key.filter(|k| !k.revoked))
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
        for entry in store.tree(KEYS).unwrap().iter() {
            let (_, v) = entry.unwrap();
            assert!(!v.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
        store.revoke_key("ci-bot").unwrap();
        assert!(store.authenticate(&secret).unwrap().is_none());
        assert!(store.api_keys().unwrap()[0].revoked);
        assert!(matches!(
            store.revoke_key("nobody"),
            Err(KeyError::Unknown(_))
        ));
    }
}
