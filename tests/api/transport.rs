//! HTTP transport features clients rely on: compression, CORS, persisted queries.

use crate::helpers::*;
use std::io::Read;

fn post_raw(
    app: &TestApp,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut request =
        ureq::post(&format!("{}/graphql", app.base)).set("Content-Type", "application/json");
    for (k, v) in headers {
        request = request.set(k, v);
    }
    let response = match request.send_string(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let status = response.status();
    let headers = response
        .headers_names()
        .into_iter()
        .map(|h| {
            (
                h.clone(),
                response.header(&h).unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut bytes = Vec::new();
    response.into_reader().read_to_end(&mut bytes).unwrap();
    (status, headers, bytes)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

const BIG_QUERY: &str = r#"{"query":"{ countries(first: 100) { edges { node { name officialName aliases capital region } } } }"}"#;

#[test]
fn responses_are_compressed_for_clients_that_accept_it() {
    let app = TestApp::spawn();
    let (_, plain_headers, plain) = post_raw(&app, &[], BIG_QUERY);
    assert_eq!(header(&plain_headers, "content-encoding"), None);
    for encoding in ["gzip", "br"] {
        let (status, headers, body) = post_raw(&app, &[("Accept-Encoding", encoding)], BIG_QUERY);
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "content-encoding"), Some(encoding));
        assert!(
            body.len() * 3 < plain.len(),
            "{encoding}: {} of {} bytes",
            body.len(),
            plain.len()
        );
    }
}

#[test]
fn cors_follows_the_configured_origins() {
    let app = TestApp::spawn();
    let (_, headers, _) = post_raw(&app, &[("Origin", "https://elsewhere.example")], BIG_QUERY);
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        None,
        "no CORS unless configured"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.http.cors_origins = vec!["https://newsroom.example".into()];
    let app = TestApp::spawn_with(settings);
    let (status, headers, _) = post_raw(&app, &[("Origin", "https://newsroom.example")], BIG_QUERY);
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("https://newsroom.example")
    );
    let preflight = ureq::request("OPTIONS", &format!("{}/graphql", app.base))
        .set("Origin", "https://newsroom.example")
        .set("Access-Control-Request-Method", "POST")
        .set(
            "Access-Control-Request-Headers",
            "content-type, authorization",
        )
        .call()
        .expect("preflight accepted");
    assert!(preflight
        .header("access-control-allow-methods")
        .unwrap_or_default()
        .contains("POST"));
    let (_, headers, _) = post_raw(&app, &[("Origin", "https://elsewhere.example")], BIG_QUERY);
    assert_ne!(
        header(&headers, "access-control-allow-origin"),
        Some("https://elsewhere.example")
    );
}

fn apq_extensions(query: &str) -> serde_json::Value {
    let hash: String = {
        use std::fmt::Write;
        let digest = sha256(query);
        digest.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    };
    serde_json::json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

fn sha256(text: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).into()
}

#[test]
fn automatic_persisted_queries_over_post_and_get() {
    let app = TestApp::spawn();
    let query = r#"query Kosovo { country(code: "XK") { name } }"#;
    let extensions = apq_extensions(query);
    // First by hash alone: unknown, the client must send the query once.
    let miss = app
        .post(
            "application/json",
            &serde_json::json!({ "extensions": extensions }).to_string(),
        )
        .json();
    assert_eq!(miss["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(
        miss["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );
    let first = app
        .post(
            "application/json",
            &serde_json::json!({ "query": query, "extensions": extensions }).to_string(),
        )
        .json();
    assert_eq!(first["data"]["country"]["name"], "Kosovo");
    let by_hash = app
        .post(
            "application/json",
            &serde_json::json!({ "extensions": extensions }).to_string(),
        )
        .json();
    assert_eq!(by_hash["data"]["country"]["name"], "Kosovo");
    let get = app.get(&format!(
        "/graphql?operationName=Kosovo&extensions={}",
        encode(&extensions.to_string())
    ));
    assert_eq!(get.status, 200);
    assert_eq!(get.json()["data"]["country"]["name"], "Kosovo");
    let wrong = app
        .post(
            "application/json",
            &serde_json::json!({ "query": "{ __typename }", "extensions": extensions }).to_string(),
        )
        .json();
    assert_eq!(
        wrong["errors"][0]["extensions"]["code"],
        "BAD_PERSISTED_QUERY"
    );

    // A mutation persisted over POST still cannot run over GET.
    let mutation = r#"mutation { deleteNode(id: "eA") { deletedIds } }"#;
    let m_ext = apq_extensions(mutation);
    app.post(
        "application/json",
        &serde_json::json!({ "query": mutation, "extensions": m_ext }).to_string(),
    );
    let get = app.get(&format!(
        "/graphql?extensions={}",
        encode(&m_ext.to_string())
    ));
    assert_eq!(get.status, 405);
}

#[test]
fn allow_list_mode_runs_only_listed_queries() {
    let dir = tempfile::tempdir().unwrap();
    let allowed = r#"{ country(code: "KE") { name } }"#;
    let list = dir.path().join("allowed.json");
    let hash = apq_extensions(allowed)["persistedQuery"]["sha256Hash"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(&list, serde_json::json!({ hash: allowed }).to_string()).unwrap();
    let mut settings = test_settings(&dir.path().join("data"));
    settings.http.persisted_queries_only = Some(list);
    let app = TestApp::spawn_with(settings);
    assert_eq!(app.data(allowed)["country"]["name"], "Kenya");
    let by_hash = app
        .post(
            "application/json",
            &serde_json::json!({ "extensions": apq_extensions(allowed) }).to_string(),
        )
        .json();
    assert_eq!(by_hash["data"]["country"]["name"], "Kenya");
    let refused = app.graphql(r#"{ country(code: "XK") { name } }"#, serde_json::json!({}));
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_ALLOWED"
    );
    assert!(refused.get("data").is_none());
}

#[test]
fn metrics_count_requests_latency_errors_and_store_size() {
    let app = TestApp::spawn();
    app.data("query KosovoQuery { country(code: \"XK\") { name } }");
    app.errors("{ countries(first: 1000) { totalCount } }");
    let reply = app.get("/metrics");
    assert_eq!(reply.status, 200);
    assert!(
        reply.content_type.contains("openmetrics-text"),
        "{}",
        reply.content_type
    );
    let text = reply.body;
    for needle in [
        r#"diplograph_http_requests_total{method="POST",route="/graphql",status="200"} 2"#,
        r#"diplograph_graphql_operation_seconds_count{operation="KosovoQuery"} 1"#,
        r#"diplograph_graphql_operation_seconds_count{operation="anonymous"} 1"#,
        r#"diplograph_graphql_errors_total{code="BAD_USER_INPUT"} 1"#,
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    let size: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("diplograph_store_size_bytes "))
        .and_then(|v| v.trim().parse().ok())
        .expect("store size");
    assert!(size > 10_000, "{size}");
}
