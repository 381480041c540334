//! Persisted queries: Apollo's automatic persisted queries (a client sends a query's SHA-256;
//! the server runs the query it remembers, or asks for it once with PersistedQueryNotFound)
//! and an allow-list mode in which only queries from a file run.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::RwLock;

pub const NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
pub const NOT_ALLOWED: &str = "PERSISTED_QUERY_NOT_ALLOWED";
pub const BAD_PERSISTED_QUERY: &str = "BAD_PERSISTED_QUERY";

pub struct PersistedQueries {
    known: RwLock<HashMap<String, String>>,
    capacity: usize,
    /// Only the queries loaded at start run.
    allow_list: bool,
}

/// Why a request cannot run: its code and message.
pub type Refusal = (&'static str, String);

pub fn sha256_hex(query: &str) -> String {
    Sha256::digest(query.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl PersistedQueries {
    pub fn automatic(capacity: usize) -> Self {
        PersistedQueries {
            known: RwLock::new(HashMap::new()),
            capacity,
            allow_list: false,
        }
    }

    /// Loads an allow-list: a JSON object from SHA-256 (hex) to query text.
    pub fn allow_list(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let queries: HashMap<String, String> = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a JSON object of hash → query: {e}", path.display()))?;
        for (hash, query) in &queries {
            if sha256_hex(query) != hash.to_ascii_lowercase() {
                return Err(format!(
                    "{}: {hash} is not the SHA-256 of its query",
                    path.display()
                ));
            }
        }
        let queries = queries
            .into_iter()
            .map(|(h, q)| (h.to_ascii_lowercase(), q))
            .collect();
        Ok(PersistedQueries {
            known: RwLock::new(queries),
            capacity: usize::MAX,
            allow_list: true,
        })
    }

    /// Fills in or checks a request's query; refuses what this server will not run.
    pub fn resolve(&self, request: &mut async_graphql::Request) -> Result<(), Refusal> {
        let persisted = request
            .extensions
            .get("persistedQuery")
            .map(|v| v.clone().into_json().unwrap_or_default());
        let Some(persisted) = persisted else {
            if self.allow_list && !self.read().contains_key(&sha256_hex(&request.query)) {
                return Err((
                    NOT_ALLOWED,
                    "this server runs only allow-listed queries".into(),
                ));
            }
            return Ok(());
        };
        if persisted.get("version").and_then(|v| v.as_i64()) != Some(1) {
            return Err((
                BAD_PERSISTED_QUERY,
                "persistedQuery.version must be 1".into(),
            ));
        }
        let hash = persisted
            .get("sha256Hash")
            .and_then(|v| v.as_str())
            .map(str::to_ascii_lowercase)
            .ok_or((
                BAD_PERSISTED_QUERY,
                "persistedQuery.sha256Hash is missing".to_string(),
            ))?;
        if request.query.trim().is_empty() {
            return match self.read().get(&hash) {
                Some(query) => {
                    request.query = query.clone();
                    Ok(())
                }
                None if self.allow_list => Err((
                    NOT_ALLOWED,
                    "this server runs only allow-listed queries".into(),
                )),
                None => Err((NOT_FOUND, "PersistedQueryNotFound".into())),
            };
        }
        if sha256_hex(&request.query) != hash {
            return Err((
                BAD_PERSISTED_QUERY,
                "persistedQuery.sha256Hash is not the SHA-256 of the query".into(),
            ));
        }
        if self.allow_list {
            if !self.read().contains_key(&hash) {
                return Err((
                    NOT_ALLOWED,
                    "this server runs only allow-listed queries".into(),
                ));
            }
            return Ok(());
        }
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        if known.len() >= self.capacity && !known.contains_key(&hash) {
            // Crude but bounded: forget one; clients re-send a forgotten query once.
            if let Some(victim) = known.keys().next().cloned() {
                known.remove(&victim);
            }
        }
        known.insert(hash, request.query.clone());
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, String>> {
        self.known.read().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{Request, Value};

    fn with_hash(query: &str, hash: &str) -> Request {
        let mut r = Request::new(query);
        let ext = serde_json::json!({ "version": 1, "sha256Hash": hash });
        r.extensions
            .insert("persistedQuery".into(), Value::from_json(ext).unwrap());
        r
    }

    #[test]
    fn automatic_persisted_queries_follow_apollo_s_protocol() {
        let apq = PersistedQueries::automatic(2);
        let query = "{ __typename }";
        let hash = sha256_hex(query);
        assert_eq!(
            apq.resolve(&mut with_hash("", &hash)).unwrap_err().0,
            NOT_FOUND
        );
        apq.resolve(&mut with_hash(query, &hash)).unwrap();
        let mut by_hash = with_hash("", &hash);
        apq.resolve(&mut by_hash).unwrap();
        assert_eq!(by_hash.query, query);
        assert_eq!(
            apq.resolve(&mut with_hash("{ other }", &hash))
                .unwrap_err()
                .0,
            BAD_PERSISTED_QUERY
        );
        apq.resolve(&mut Request::new("{ anything }")).unwrap();
    }

    #[test]
    fn the_allow_list_runs_only_its_queries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("allowed.json");
        let query = "{ country(code: \"XK\") { name } }";
        std::fs::write(
            &path,
            serde_json::json!({ sha256_hex(query): query }).to_string(),
        )
        .unwrap();
        let list = PersistedQueries::allow_list(&path).unwrap();
        list.resolve(&mut Request::new(query)).unwrap();
        let mut by_hash = with_hash("", &sha256_hex(query));
        list.resolve(&mut by_hash).unwrap();
        assert_eq!(by_hash.query, query);
        assert_eq!(
            list.resolve(&mut Request::new("{ __typename }"))
                .unwrap_err()
                .0,
            NOT_ALLOWED
        );
        let other = "{ __typename }";
        assert_eq!(
            list.resolve(&mut with_hash(other, &sha256_hex(other)))
                .unwrap_err()
                .0,
            NOT_ALLOWED
        );
        std::fs::write(&path, r#"{"00": "{ __typename }"}"#).unwrap();
        assert!(PersistedQueries::allow_list(&path).is_err());
    }
}
