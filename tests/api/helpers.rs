//! Starts the real server (port 0, a fresh data dir) and talks HTTP to it as a client would.

use actix_web::dev::ServerHandle;
use diplograph::app::Application;
use diplograph::config::Settings;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use tempfile::TempDir;

pub struct TestApp {
    pub base: String,
    /// The operations address (`http.ops_listen`), when set.
    pub ops_base: Option<String>,
    pub data_dir: PathBuf,
    handle: Option<ServerHandle>,
    thread: Option<JoinHandle<()>>,
    _dir: Option<TempDir>,
}

pub fn test_settings(data_dir: &Path) -> Settings {
    Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: data_dir.to_path_buf(),
        workers: 1,
        // Off, so that every test's reads go through the response cache (stats bypass it).
        expose_query_stats: false,
        log: "warn".into(),
        ..Settings::default()
    }
}

pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn reply(result: Result<ureq::Response, ureq::Error>) -> Reply {
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    Reply {
        status: response.status(),
        content_type: response.content_type().to_string(),
        body: response.into_string().expect("a text body"),
    }
}

/// Keys made before the server starts (the CLI's way: the store is free then).
pub struct Keys {
    pub writer: String,
    pub admin: String,
}

impl TestApp {
    /// A server on a fresh dir holding a writer key and an admin key.
    pub fn spawn_with_keys() -> (TestApp, Keys) {
        Self::spawn_with_keys_and(|_| {})
    }

    /// A server on a fresh dir holding a writer key and an admin key, with settings changed.
    pub fn spawn_with_keys_and(change: impl FnOnce(&mut Settings)) -> (TestApp, Keys) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut settings = test_settings(dir.path());
        change(&mut settings);
        let keys = {
            let store = diplograph::app::open_store(&settings).expect("store");
            Keys {
                writer: store
                    .create_key("writer-bot", diplograph::store::KeyRole::Writer)
                    .unwrap(),
                admin: store
                    .create_key("admin-bot", diplograph::store::KeyRole::Admin)
                    .unwrap(),
            }
        };
        let mut app = TestApp::spawn_with(settings);
        app._dir = Some(dir);
        (app, keys)
    }

    /// The whole response of a request sent with `Authorization: Bearer <key>`.
    pub fn graphql_as(&self, key: &str, query: &str, variables: Value) -> Value {
        let reply = reply(
            ureq::post(&format!("{}/graphql", self.base))
                .set("Content-Type", "application/json")
                .set("Authorization", &format!("Bearer {key}"))
                .send_string(&json!({ "query": query, "variables": variables }).to_string()),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    }

    /// `data` of an authenticated request that must succeed.
    pub fn data_as(&self, key: &str, query: &str, variables: Value) -> Value {
        let response = self.graphql_as(key, query, variables);
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response:#}"
        );
        response["data"].clone()
    }

    /// The first error of an authenticated request that must fail.
    pub fn error_as(&self, key: &str, query: &str, variables: Value) -> Value {
        let response = self.graphql_as(key, query, variables);
        let error = response["errors"][0].clone();
        assert!(
            error["extensions"]["code"].is_string(),
            "expected a coded error: {response:#}"
        );
        error
    }

    pub fn spawn() -> TestApp {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut app = TestApp::spawn_with(test_settings(dir.path()));
        app._dir = Some(dir);
        app
    }

    pub fn spawn_with(settings: Settings) -> TestApp {
        let (tx, rx) = mpsc::channel();
        let data_dir = settings.data_dir.clone();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                match Application::build(&settings) {
                    Ok(app) => {
                        tx.send(Ok((app.port(), app.ops_port(), app.handle())))
                            .unwrap();
                        app.run_until_stopped().await.expect("clean stop");
                    }
                    Err(e) => tx.send(Err(e.to_string())).unwrap(),
                }
            })
        });
        let (port, ops_port, handle) = rx
            .recv()
            .unwrap()
            .unwrap_or_else(|e| panic!("server failed to start: {e}"));
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            ops_base: ops_port.map(|p| format!("http://127.0.0.1:{p}")),
            data_dir,
            handle: Some(handle),
            thread: Some(thread),
            _dir: None,
        }
    }

    /// Stops the server and waits until the store is closed, keeping the data dir.
    pub fn stop(mut self) -> Option<TempDir> {
        self.shutdown();
        self._dir.take()
    }

    fn shutdown(&mut self) {
        if let Some(handle) = self.handle.take() {
            actix_web::rt::System::new().block_on(handle.stop(true));
        }
        if let Some(thread) = self.thread.take() {
            thread.join().expect("server thread");
        }
    }

    pub fn post(&self, content_type: &str, body: &str) -> Reply {
        reply(
            ureq::post(&format!("{}/graphql", self.base))
                .set("Content-Type", content_type)
                .send_string(body),
        )
    }

    pub fn post_with_accept(&self, accept: &str, body: &Value) -> Reply {
        reply(
            ureq::post(&format!("{}/graphql", self.base))
                .set("Content-Type", "application/json")
                .set("Accept", accept)
                .send_string(&body.to_string()),
        )
    }

    pub fn get(&self, path_and_query: &str) -> Reply {
        reply(ureq::get(&format!("{}{}", self.base, path_and_query)).call())
    }

    /// Any request: method, path, headers, and a body if any.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let request = headers.iter().fold(
            ureq::request(method, &format!("{}{}", self.base, path)),
            |r, (name, value)| r.set(name, value),
        );
        reply(match body {
            Some(body) => request.send_string(body),
            None => request.call(),
        })
    }

    pub fn request(&self, method: &str, path: &str) -> Reply {
        reply(ureq::request(method, &format!("{}{}", self.base, path)).call())
    }

    /// The whole GraphQL response of a query with variables.
    pub fn graphql(&self, query: &str, variables: Value) -> Value {
        let reply = self.post(
            "application/json",
            &json!({ "query": query, "variables": variables }).to_string(),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    }

    /// `data` of a query that must succeed.
    pub fn data(&self, query: &str) -> Value {
        self.data_with(query, json!({}))
    }

    pub fn data_with(&self, query: &str, variables: Value) -> Value {
        let response = self.graphql(query, variables);
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response:#}"
        );
        response["data"].clone()
    }

    /// The errors of a query that must fail; each must carry a code.
    pub fn errors(&self, query: &str) -> Vec<Value> {
        let response = self.graphql(query, json!({}));
        let errors = response["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("expected errors: {response:#}"))
            .clone();
        for e in &errors {
            assert!(
                e["extensions"]["code"].is_string(),
                "error without a code: {e:#}"
            );
        }
        errors
    }

    /// The code of the first error of a query that must fail.
    pub fn error_code(&self, query: &str) -> String {
        self.errors(query)[0]["extensions"]["code"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The names in a list of `{ name }` objects, sorted.
pub fn names(list: &Value) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v["name"].as_str().expect("a name").to_string())
        .collect();
    out.sort();
    out
}

/// The nodes of a connection.
pub fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Whether any citation in `citations` has an excerpt containing `needle`.
pub fn cites(citations: &Value, needle: &str) -> bool {
    citations
        .as_array()
        .expect("citations")
        .iter()
        .any(|c| c["excerpt"].as_str().is_some_and(|e| e.contains(needle)))
}

/// The query string encoding of a parameter value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
