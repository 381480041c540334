//! The API keys a running server accepts, held in memory. Every change goes through here and
//! the store together, so a key created, revoked or expired takes effect on the next request
//! without a restart; checking a key is a hash and a map lookup, never a store read on an async
//! worker. The store keeps only each key's SHA-256 (`store::keys`).

use crate::store::{keys, ApiKey, KeyError, KeyRole, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub struct KeyRing {
    store: Arc<Store>,
    by_hash: RwLock<HashMap<[u8; 32], ApiKey>>,
}

impl KeyRing {
    /// Loads every key of the store (a blocking read: at start, before serving).
    pub fn load(store: Arc<Store>) -> Result<KeyRing, StoreError> {
        let by_hash = store
            .api_keys()?
            .into_iter()
            .filter(|k| !k.revoked)
            .map(|k| (k.hash(), k))
            .collect();
        Ok(KeyRing {
            store,
            by_hash: RwLock::new(by_hash),
        })
    }

    /// The live key a secret belongs to: known, not revoked, not expired.
    pub fn authenticate(&self, secret: &str) -> Option<ApiKey> {
        let hash = keys::hash(secret.trim());
        let by_hash = self.by_hash.read().unwrap_or_else(|p| p.into_inner());
        by_hash
            .get(&hash)
            .filter(|k| k.is_live(keys::now_ms()))
            .cloned()
    }

    /// Whether `key` still authenticates (a WebSocket asks this while it stays open).
    pub fn is_live(&self, key: &ApiKey) -> bool {
        let by_hash = self.by_hash.read().unwrap_or_else(|p| p.into_inner());
        by_hash
            .get(&key.hash())
            .is_some_and(|k| k.is_live(keys::now_ms()))
    }

    /// Makes a key (a blocking store write); returns its secret, shown once, and the key.
    pub fn create(
        &self,
        name: &str,
        role: KeyRole,
        expires_ms: Option<u64>,
    ) -> Result<(String, ApiKey), KeyError> {
        // The map's lock is held across the store write, so a revoke of the same key cannot
        // land between the two and leave the map holding a key the store has revoked.
        let mut by_hash = self.by_hash.write().unwrap_or_else(|p| p.into_inner());
        let (secret, key) = self.store.create_key_until(name, role, expires_ms)?;
        by_hash.insert(key.hash(), key.clone());
        Ok((secret, key))
    }

    /// Revokes a key for good (a blocking store write); it fails from the next request on.
    pub fn revoke(&self, name: &str) -> Result<ApiKey, KeyError> {
        let mut by_hash = self.by_hash.write().unwrap_or_else(|p| p.into_inner());
        let key = self.store.revoke_key(name)?;
        by_hash.remove(&key.hash());
        Ok(key)
    }

    /// Every key, revoked ones too, by name (a blocking store read).
    pub fn list(&self) -> Result<Vec<ApiKey>, StoreError> {
        self.store.api_keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_work_from_creation_until_revocation_or_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let before = store.create_key("before", KeyRole::Writer).unwrap();
        let ring = KeyRing::load(store.clone()).unwrap();
        let key = ring.authenticate(&before).unwrap();
        assert_eq!(key.name, "before");
        assert!(ring.authenticate("dg_nothing").is_none());

        let (secret, made) = ring.create("made", KeyRole::Admin, None).unwrap();
        assert_eq!(ring.authenticate(&secret).unwrap().role, KeyRole::Admin);
        assert!(ring.is_live(&made));
        ring.revoke("made").unwrap();
        assert!(ring.authenticate(&secret).is_none());
        assert!(!ring.is_live(&made));
        assert!(ring
            .list()
            .unwrap()
            .iter()
            .any(|k| k.name == "made" && k.revoked));

        let (secret, _) = ring
            .create(
                "gone",
                KeyRole::Writer,
                Some(keys::now_ms().saturating_sub(1)),
            )
            .unwrap();
        assert!(ring.authenticate(&secret).is_none());
        // A ring loaded afresh agrees.
        let reloaded = KeyRing::load(store).unwrap();
        assert!(reloaded.authenticate(&before).is_some());
        assert!(reloaded.authenticate(&secret).is_none());
    }
}
