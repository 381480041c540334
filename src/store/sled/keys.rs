//! API keys in two trees: `keys` (name → the key, its secret's SHA-256 but never the secret)
//! and `key_hashes` (SHA-256 → name, for the keys that are not revoked).

use super::*;
use crate::store::keys::ApiKey;
use crate::store::KeyRole;
use serde::Deserialize;

pub const KEYS: &str = "keys";
pub const KEY_HASHES: &str = "key_hashes";

/// A key as stored before keys could expire: values are positional, so the old layout is read
/// as it is and given no expiry.
#[derive(Deserialize)]
struct ApiKeyWithoutExpiry {
    name: String,
    role: KeyRole,
    created_ms: u64,
    revoked: bool,
    hash: [u8; 32],
}

fn decode_key(bytes: &[u8]) -> Result<ApiKey, StoreError> {
    codec::decode::<ApiKey>(bytes).or_else(|e| {
        codec::decode::<ApiKeyWithoutExpiry>(bytes)
            .map(|k| ApiKey {
                name: k.name,
                role: k.role,
                created_ms: k.created_ms,
                revoked: k.revoked,
                hash: k.hash,
                expires_ms: None,
            })
            .map_err(|_| e)
    })
}

pub(super) fn get(store: &SledStore, name: &str) -> Result<Option<ApiKey>, StoreError> {
    store
        .tree(KEYS)?
        .get(name.as_bytes())?
        .map(|v| decode_key(&v))
        .transpose()
}

pub(super) fn by_hash(store: &SledStore, hash: &[u8; 32]) -> Result<Option<ApiKey>, StoreError> {
    match store.tree(KEY_HASHES)?.get(hash)? {
        Some(name) => get(store, &utf8(&name)?),
        None => Ok(None),
    }
}

pub(super) fn all(store: &SledStore) -> Result<Vec<ApiKey>, StoreError> {
    store
        .tree(KEYS)?
        .iter()
        .values()
        .map(|v| decode_key(&v?))
        .collect()
}

pub(super) fn save(store: &SledStore, key: &ApiKey) -> Result<(), StoreError> {
    let mut batch = Batch::default();
    batch.put(KEYS, key.name.as_bytes(), codec::encode(key)?);
    match key.revoked {
        true => batch.remove(KEY_HASHES, key.hash.to_vec()),
        false => batch.put(KEY_HASHES, key.hash.to_vec(), key.name.as_bytes().to_vec()),
    }
    // Rare: the transaction's fixed cost does not matter here.
    store.write_batch(&batch, None)?;
    Backend::sync(store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys::{hash, now_ms};
    use crate::store::Store;

    #[test]
    fn only_hashes_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let sled = Arc::new(SledStore::open(dir.path(), DEFAULT_CACHE_BYTES).unwrap());
        let store = Store::on(sled.clone());
        let secret = store.create_key("ci-bot", KeyRole::Writer).unwrap();
        for entry in sled.tree(KEYS).unwrap().iter() {
            let (_, v) = entry.unwrap();
            assert!(!v.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
    }

    #[test]
    fn keys_stored_before_expiry_existed_still_read() {
        #[derive(serde::Serialize)]
        struct Old {
            name: String,
            role: KeyRole,
            created_ms: u64,
            revoked: bool,
            hash: [u8; 32],
        }
        let old = codec::encode(&Old {
            name: "old".into(),
            role: KeyRole::Admin,
            created_ms: 5,
            revoked: false,
            hash: hash("dg_old"),
        })
        .unwrap();
        let key = decode_key(&old).unwrap();
        assert_eq!((key.name.as_str(), key.expires_ms), ("old", None));
        assert!(key.is_live(now_ms()));
    }
}
