//! What hostile use broke, and the limits a public API needs: slow and many connections,
//! batches, deadlines, directives, WebSocket limits and close codes, keys managed through the
//! API, rate limits and production switches. Each test failed before its fix.

use crate::helpers::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

fn address(base: &str) -> &str {
    base.trim_start_matches("http://")
}

/// A client that sends its headers and one byte of a 100-byte body, then nothing.
fn trickle(base: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address(base)).unwrap();
    stream
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .unwrap();
    stream
}

/// Everything the server sends until it closes the connection (or `limit` passes).
fn read_to_close(stream: &mut TcpStream, limit: Duration) -> String {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).to_string()
}

#[test]
fn a_body_that_stops_arriving_gets_a_408_and_its_connection_closed() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.request_read_timeout_ms = 400;
    let app = TestApp::spawn_with(settings);
    let mut stream = trickle(&app.base);
    let started = Instant::now();
    let answer = read_to_close(&mut stream, Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("REQUEST_TIMEOUT"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// More slow clients than the connection limit: the server neither runs out of files nor stops
/// answering its health check on the operations address; the API's own address answers again
/// once the slow clients are cut off.
#[test]
fn slow_clients_past_the_connection_limit_do_not_starve_the_health_check() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.request_read_timeout_ms = 1500;
    settings.limits.max_connections = 8;
    settings.http.ops_listen = Some("127.0.0.1:0".into());
    let app = TestApp::spawn_with(settings);
    let ops = app.ops_base.clone().expect("an operations address");
    let slow: Vec<TcpStream> = (0..40).map(|_| trickle(&app.base)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let health = ureq::get(&format!("{ops}/healthz"))
        .timeout(Duration::from_secs(2))
        .call()
        .expect("the health check answers under the flood");
    assert_eq!(health.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(1));
    // /metrics lives on the operations address only.
    assert_eq!(app.get("/metrics").status, 404);
    assert_eq!(
        ureq::get(&format!("{ops}/metrics"))
            .call()
            .unwrap()
            .status(),
        200
    );
    // The flood is cut off by the read timeout; the API answers again.
    let reply = ureq::get(&format!("{}/healthz", app.base))
        .timeout(Duration::from_secs(15))
        .call()
        .expect("the API answers once the slow clients are cut off");
    assert_eq!(reply.status(), 200);
    drop(slow);
}

fn heavy_query() -> String {
    // 100 statements, each with its source and about-nodes: complexity in the thousands.
    "{ statements(first: 100) { edges { node { text source { excerpt source { title text } } about { __typename } } } } }".into()
}

#[test]
fn batches_are_bounded_in_length_complexity_and_response_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.max_complexity = 2000;
    settings.limits.max_batch = 4;
    let app = TestApp::spawn_with(settings);
    // Distinct documents, so that none comes from the response cache (which costs nothing).
    let query = |i: usize| {
        format!("{{ c{i}: countries(first: 100) {{ edges {{ node {{ name capital region subregion officialName }} }} }} }}")
    };
    // Alone, each fits the budget.
    let one = app.graphql(&query(99), json!({}));
    assert!(one.get("errors").is_none(), "{one:#}");
    let batch = |n: usize| {
        let body: Vec<Value> = (0..n).map(|i| json!({ "query": query(i) })).collect();
        app.post("application/json", &Value::Array(body).to_string())
    };
    let too_long = batch(5);
    assert_eq!(too_long.status, 400, "{}", too_long.body);
    assert!(too_long.body.contains("at most 4"), "{}", too_long.body);
    // Four fit the length, but not the one budget they share.
    let shared = batch(4).json();
    let codes: Vec<Value> = shared
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["errors"][0]["extensions"]["code"].clone())
        .collect();
    assert_eq!(codes[0], Value::Null, "{shared:#}");
    assert!(
        codes.iter().any(|c| c == "GRAPHQL_VALIDATION_FAILED"),
        "{shared:#}"
    );
    let refused = shared
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r.get("errors").is_some())
        .unwrap();
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("batch is too complex"),
        "{refused:#}"
    );

    let mut settings = test_settings(dir.path().join("small").as_path());
    settings.limits.max_response_bytes = 4096;
    let small = TestApp::spawn_with(settings);
    let big = small.graphql(&heavy_query(), json!({}));
    assert_eq!(
        big["errors"][0]["extensions"]["code"], "RESPONSE_TOO_LARGE",
        "{big:#}"
    );
    assert!(big.get("data").is_none() || big["data"].is_null());
    let fits = small.graphql(r#"{ country(code: "XK") { name } }"#, json!({}));
    assert_eq!(fits["data"]["country"]["name"], "Kosovo");
}

#[test]
fn an_operation_past_its_deadline_is_cancelled_with_a_code_and_the_server_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.limits.query_timeout_ms = 1;
    settings.cache.response_bytes = 0;
    let app = TestApp::spawn_with(settings);
    let response = app.graphql(&heavy_query(), json!({}));
    assert_eq!(
        response["errors"][0]["extensions"]["code"], "TIMEOUT",
        "{response:#}"
    );
    assert!(response["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("1 ms"));
    assert_eq!(app.get("/healthz").status, 200);
}

#[test]
fn directives_are_validated_everywhere_and_a_skipped_root_is_an_empty_object() {
    let app = TestApp::spawn();
    let skipped = app.graphql("{ __typename @skip(if: true) }", json!({}));
    assert_eq!(skipped, json!({ "data": {} }));
    for query in [
        "{ __typename @nope }",
        "{ __typename @include(if: true) @include(if: true) }",
        "{ country(code: \"XK\") { name @nope } }",
        "query @skip(if: true) { __typename }",
        "{ __typename @skip }",
    ] {
        let response = app.graphql(query, json!({}));
        assert_eq!(
            response["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{query}: {response:#}"
        );
        assert!(response.get("data").is_none(), "{query}: {response:#}");
    }
    let many = format!("{{ __typename {} }}", "@include(if: true) ".repeat(2000));
    let response = app.graphql(&many, json!({}));
    let errors = response["errors"].as_array().unwrap();
    assert!(errors.len() <= 21, "{} errors", errors.len());
}

type Socket = WebSocket<TcpStream>;

fn ws_connect(app: &TestApp) -> Socket {
    let url = format!("{}/graphql", app.base.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let stream = TcpStream::connect(address(&app.base)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    tungstenite::client(request, stream).expect("handshake").0
}

fn ws_send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).unwrap();
}

/// The next protocol message, or the close code the connection ended with.
fn ws_next(socket: &mut Socket) -> Result<Value, u16> {
    loop {
        match socket.read() {
            Ok(Message::Text(text)) => return Ok(serde_json::from_str(&text).unwrap()),
            Ok(Message::Close(frame)) => return Err(frame.map_or(1005, |f| u16::from(f.code))),
            Ok(_) => continue,
            Err(e) => panic!("the connection broke without a close frame: {e}"),
        }
    }
}

fn ws_ready(app: &TestApp, init: Value) -> Socket {
    let mut socket = ws_connect(app);
    ws_send(
        &mut socket,
        json!({ "type": "connection_init", "payload": init }),
    );
    assert_eq!(ws_next(&mut socket).unwrap()["type"], "connection_ack");
    socket
}

const STATEMENTS: &str = "subscription { statementAdded { text } }";

#[test]
fn websockets_follow_the_protocols_close_codes_and_limits() {
    let (app, keys) = TestApp::spawn_with_keys_and(|s| {
        s.limits.ws_init_timeout_ms = 300;
        s.limits.max_subscriptions_per_connection = 2;
        s.limits.max_ws_message_bytes = 2048;
    });
    // No connection_init in time: 4408.
    let mut silent = ws_connect(&app);
    assert_eq!(ws_next(&mut silent), Err(4408));
    // A subscribe before connection_init: 4401.
    let mut early = ws_connect(&app);
    ws_send(
        &mut early,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": STATEMENTS } }),
    );
    assert_eq!(ws_next(&mut early), Err(4401));
    // A key that is not one: 4403.
    let mut bad = ws_connect(&app);
    ws_send(
        &mut bad,
        json!({ "type": "connection_init", "payload": { "Authorization": "BEARER dg_made-up" } }),
    );
    assert_eq!(ws_next(&mut bad), Err(4403));
    // A second connection_init: 4429.
    let mut twice = ws_ready(&app, json!({}));
    ws_send(&mut twice, json!({ "type": "connection_init" }));
    assert_eq!(ws_next(&mut twice), Err(4429));
    // Not JSON: 4400.
    let mut garbled = ws_ready(&app, json!({}));
    garbled.send(Message::text("{not json")).unwrap();
    assert_eq!(ws_next(&mut garbled), Err(4400));
    // An id already running: 4409.
    let mut duplicate = ws_ready(&app, json!({}));
    for _ in 0..2 {
        ws_send(
            &mut duplicate,
            json!({ "id": "same", "type": "subscribe", "payload": { "query": STATEMENTS } }),
        );
    }
    assert_eq!(ws_next(&mut duplicate), Err(4409));
    // Over the subscriptions a connection may run: an error for that one, the rest go on.
    let mut many = ws_ready(
        &app,
        json!({ "Authorization": format!("Bearer {}", keys.writer) }),
    );
    for id in ["a", "b", "c"] {
        ws_send(
            &mut many,
            json!({ "id": id, "type": "subscribe", "payload": { "query": STATEMENTS } }),
        );
    }
    let refused = ws_next(&mut many).unwrap();
    assert_eq!(
        (refused["type"].as_str(), refused["id"].as_str()),
        (Some("error"), Some("c"))
    );
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "TOO_MANY_SUBSCRIPTIONS"
    );
    // Completing one frees its place.
    ws_send(&mut many, json!({ "id": "a", "type": "complete" }));
    std::thread::sleep(Duration::from_millis(200));
    ws_send(
        &mut many,
        json!({ "id": "d", "type": "subscribe", "payload": { "query": STATEMENTS } }),
    );
    ws_send(&mut many, json!({ "type": "ping" }));
    assert_eq!(ws_next(&mut many).unwrap()["type"], "pong");
    // A message over the size limit: 1009.
    let mut large = ws_ready(&app, json!({}));
    let padding = "x".repeat(4096);
    ws_send(
        &mut large,
        json!({ "id": "big", "type": "subscribe", "payload": { "query": STATEMENTS, "extensions": { "pad": padding } } }),
    );
    assert_eq!(ws_next(&mut large), Err(1009));
    // The server still serves.
    assert_eq!(app.get("/healthz").status, 200);
}

#[test]
fn keys_are_created_listed_and_revoked_through_the_api_while_serving() {
    let (app, keys) = TestApp::spawn_with_keys();
    let create = "mutation($name: String!, $role: ApiKeyRole!, $at: String) { createApiKey(name: $name, role: $role, expiresAt: $at) { secret key { name role live expiresAt } } }";
    // Writers may not manage keys.
    let refused = app.error_as(
        &keys.writer,
        create,
        json!({ "name": "x", "role": "WRITER" }),
    );
    assert_eq!(refused["extensions"]["code"], "FORBIDDEN");
    let made = app.data_as(
        &keys.admin,
        create,
        json!({ "name": "newsroom", "role": "WRITER" }),
    );
    let secret = made["createApiKey"]["secret"].as_str().unwrap().to_string();
    assert_eq!(made["createApiKey"]["key"]["live"], true);
    let write = r#"mutation { createSource(input: { title: "From a new key", text: "Some text." }) { title } }"#;
    app.data_as(&secret, write, json!({}));
    // Listed for admins, never with secrets, and never from the shared response cache.
    let list = "{ apiKeys { name role revoked live } }";
    let listed = app.data_as(&keys.admin, list, json!({}));
    assert!(listed.to_string().contains("newsroom"));
    assert!(!listed.to_string().contains(&secret));
    let anonymous = app.graphql(list, json!({}));
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{anonymous:#}"
    );
    // A WebSocket opened with the key is closed when it is revoked; the key fails at once.
    let mut socket = ws_ready(&app, json!({ "Authorization": format!("Bearer {secret}") }));
    ws_send(
        &mut socket,
        json!({ "id": "s", "type": "subscribe", "payload": { "query": STATEMENTS } }),
    );
    let revoked = app.data_as(
        &keys.admin,
        "mutation { revokeApiKey(name: \"newsroom\") { revoked live } }",
        json!({}),
    );
    assert_eq!(
        revoked["revokeApiKey"],
        json!({ "revoked": true, "live": false })
    );
    let after = app.graphql_as(&secret, write, json!({}));
    assert_eq!(after["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert_eq!(ws_next(&mut socket), Err(4403));
    // Expiry: in the past is refused; a key made to expire soon stops working then.
    let past = app.error_as(
        &keys.admin,
        create,
        json!({ "name": "old", "role": "WRITER", "at": "2001-01-01T00:00:00Z" }),
    );
    assert_eq!(past["extensions"]["code"], "BAD_USER_INPUT");
    let soon =
        humantime::format_rfc3339(std::time::SystemTime::now() + Duration::from_millis(1500))
            .to_string();
    let brief = app.data_as(
        &keys.admin,
        create,
        json!({ "name": "brief", "role": "WRITER", "at": soon }),
    );
    let brief = brief["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    app.data_as(
        &brief,
        write.replace("new key", "brief key").as_str(),
        json!({}),
    );
    std::thread::sleep(Duration::from_millis(1800));
    let expired = app.graphql_as(&brief, write, json!({}));
    assert_eq!(
        expired["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    // Taken names conflict.
    let taken = app.error_as(
        &keys.admin,
        create,
        json!({ "name": "newsroom", "role": "ADMIN" }),
    );
    assert_eq!(taken["extensions"]["code"], "CONFLICT");
}

#[test]
fn rate_limits_answer_429_with_retry_after_per_key_and_per_address() {
    let (app, keys) = TestApp::spawn_with_keys_and(|s| {
        s.rate_limit.per_address_per_second = 1;
        s.rate_limit.per_address_burst = 3;
        s.rate_limit.per_key_per_second = 1;
        s.rate_limit.per_key_burst = 5;
    });
    let query = json!({ "query": "{ __typename }" }).to_string();
    let anonymous = |n: usize| {
        (0..n)
            .map(|_| app.post("application/json", &query).status)
            .collect::<Vec<_>>()
    };
    assert_eq!(anonymous(4), [200, 200, 200, 429]);
    let limited = app.post("application/json", &query);
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.json()["errors"][0]["extensions"]["code"],
        "RATE_LIMITED"
    );
    let retry = ureq::post(&format!("{}/graphql", app.base))
        .set("Content-Type", "application/json")
        .send_string(&query);
    match retry {
        Err(ureq::Error::Status(429, response)) => {
            let after: u64 = response.header("Retry-After").unwrap().parse().unwrap();
            assert!((1..=2).contains(&after), "{after}");
        }
        other => panic!("expected a 429, got {other:?}"),
    }
    // A key has a bucket of its own.
    let with_key = |n: usize| {
        (0..n)
            .map(|_| {
                app.send(
                    "POST",
                    "/graphql",
                    &[
                        ("Content-Type", "application/json"),
                        ("Authorization", &format!("Bearer {}", keys.writer)),
                    ],
                    Some(&query),
                )
                .status
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(with_key(6), [200, 200, 200, 200, 200, 429]);
}

#[test]
fn production_switches_turn_off_introspection_and_the_playground_and_guard_metrics() {
    let (app, keys) = TestApp::spawn_with_keys_and(|s| {
        s.http.playground = false;
        s.http.introspection = false;
        s.http.metrics_need_key = true;
    });
    assert_eq!(app.get("/").status, 404);
    let introspection = app.graphql("{ __schema { queryType { name } } }", json!({}));
    assert_eq!(
        introspection["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{introspection:#}"
    );
    assert_eq!(
        app.graphql("{ __typename }", json!({}))["data"]["__typename"],
        "Query"
    );
    assert_eq!(app.get("/metrics").status, 401);
    let as_writer = app.send(
        "GET",
        "/metrics",
        &[("Authorization", &format!("Bearer {}", keys.writer))],
        None,
    );
    assert_eq!(as_writer.status, 403);
    let as_admin = app.send(
        "GET",
        "/metrics",
        &[("Authorization", &format!("Bearer {}", keys.admin))],
        None,
    );
    assert_eq!(as_admin.status, 200);
    assert!(as_admin.body.contains("diplograph_http_requests_total"));
}

/// The older graphql-ws protocol (subscriptions-transport-ws) is still spoken.
#[test]
fn the_older_graphql_ws_protocol_runs_operations_too() {
    let app = TestApp::spawn();
    let url = format!("{}/graphql", app.base.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-ws".parse().unwrap());
    let stream = TcpStream::connect(address(&app.base)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (mut socket, response) = tungstenite::client(request, stream).expect("handshake");
    assert_eq!(response.headers()["sec-websocket-protocol"], "graphql-ws");
    ws_send(
        &mut socket,
        json!({ "type": "connection_init", "payload": {} }),
    );
    assert_eq!(ws_next(&mut socket).unwrap()["type"], "connection_ack");
    ws_send(
        &mut socket,
        json!({ "id": "1", "type": "start", "payload": { "query": "{ country(code: \"XK\") { name } }" } }),
    );
    let data = ws_next(&mut socket).unwrap();
    assert_eq!(data["type"], "data", "{data:#}");
    assert_eq!(data["payload"]["data"]["country"]["name"], "Kosovo");
    assert_eq!(
        ws_next(&mut socket).unwrap(),
        json!({ "id": "1", "type": "complete" })
    );
    ws_send(&mut socket, json!({ "type": "connection_terminate" }));
    assert_eq!(ws_next(&mut socket), Err(1000));
}

/// A WebSocket runs operations under the same rules as HTTP: the allow-list, the deadline.
#[test]
fn websocket_operations_keep_the_allow_list_and_the_deadline() {
    let work = tempfile::tempdir().unwrap();
    let allowed = work.path().join("allowed.json");
    use sha2::Digest;
    let query = "{ __typename }";
    let hash: String = sha2::Sha256::digest(query.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(&allowed, json!({ hash: query }).to_string()).unwrap();
    let (app, _keys) = TestApp::spawn_with_keys_and(|s| {
        s.http.persisted_queries_only = Some(allowed.clone());
    });
    let mut socket = ws_ready(&app, json!({}));
    ws_send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ country(code: \"XK\") { name } }" } }),
    );
    let refused = ws_next(&mut socket).unwrap();
    assert_eq!(refused["type"], "error", "{refused:#}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_ALLOWED"
    );

    let (app, _keys) = TestApp::spawn_with_keys_and(|s| {
        s.limits.query_timeout_ms = 1;
        s.cache.response_bytes = 0;
    });
    let mut socket = ws_ready(&app, json!({}));
    ws_send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": heavy_query() } }),
    );
    let answer = ws_next(&mut socket).unwrap();
    assert_eq!(
        answer["payload"][0]["extensions"]["code"], "TIMEOUT",
        "{answer:#}"
    );
}
