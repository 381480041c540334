//! A corpus of hostile and malformed requests against one server with small limits: each row
//! is a request and the status and `extensions.code` it must get. Malformed HTTP that no client
//! library sends (request lines, framing) goes over raw TCP, and the graphql-transport-ws close
//! codes over WebSocket; the two deadlines are tried on a second server, whose short ones would
//! trip up the rest. Afterwards the data must be what it was, and the server healthy.
//!
//! Rows marked "found by this corpus" failed when it was written; they were fixed at the root.

use crate::helpers::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

/// The `extensions.code` a response must carry first (None: the response has no errors).
type Code = Option<&'static str>;

const NO_ERROR: Code = None;
const BAD_REQUEST: Code = Some("BAD_REQUEST");
const PAYLOAD_TOO_LARGE: Code = Some("PAYLOAD_TOO_LARGE");
const REQUEST_TIMEOUT: Code = Some("REQUEST_TIMEOUT");
const PARSE_FAILED: Code = Some("GRAPHQL_PARSE_FAILED");
const VALIDATION_FAILED: Code = Some("GRAPHQL_VALIDATION_FAILED");
const BAD_USER_INPUT: Code = Some("BAD_USER_INPUT");
const UNAUTHENTICATED: Code = Some("UNAUTHENTICATED");
const FORBIDDEN: Code = Some("FORBIDDEN");
const NOT_FOUND: Code = Some("NOT_FOUND");
const CONFLICT: Code = Some("CONFLICT");
const RESPONSE_TOO_LARGE: Code = Some("RESPONSE_TOO_LARGE");
const TIMEOUT: Code = Some("TIMEOUT");
const PERSISTED_QUERY_NOT_FOUND: Code = Some("PERSISTED_QUERY_NOT_FOUND");
const BAD_PERSISTED_QUERY: Code = Some("BAD_PERSISTED_QUERY");

const JSON: &str = "application/json";
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The limits of the server under attack: small, so that going past them is cheap.
const MAX_DEPTH: usize = 10;
const MAX_BODY_BYTES: usize = 16 * 1024;
const MAX_BATCH: usize = 3;
/// The second server's: it cuts off a trickled body.
const READ_TIMEOUT_MS: u64 = 1000;

/// One hostile HTTP request and what it must get.
struct Case {
    name: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    status: u16,
    code: Code,
}

/// POST /graphql with this content type and body.
fn post(
    name: &'static str,
    content_type: &str,
    body: impl Into<Vec<u8>>,
    status: u16,
    code: Code,
) -> Case {
    Case {
        name,
        method: "POST",
        path: "/graphql".into(),
        headers: vec![("Content-Type", content_type.to_string())],
        body: Some(body.into()),
        status,
        code,
    }
}

/// POST /graphql of a JSON body.
fn post_json(name: &'static str, body: Value, status: u16, code: Code) -> Case {
    post(name, JSON, body.to_string(), status, code)
}

/// A GraphQL operation, anonymous.
fn op(name: &'static str, query: &str, variables: Value, status: u16, code: Code) -> Case {
    post_json(
        name,
        json!({ "query": query, "variables": variables }),
        status,
        code,
    )
}

/// A GraphQL operation sent with `Authorization: <authorization>`.
fn op_as(
    name: &'static str,
    authorization: &str,
    query: &str,
    variables: Value,
    status: u16,
    code: Code,
) -> Case {
    op(name, query, variables, status, code).with("Authorization", authorization)
}

/// Any method on any path, without a body.
fn call(name: &'static str, method: &'static str, path: &str, status: u16, code: Code) -> Case {
    Case {
        name,
        method,
        path: path.into(),
        headers: Vec::new(),
        body: None,
        status,
        code,
    }
}

impl Case {
    fn with(mut self, header: &'static str, value: &str) -> Case {
        self.headers
            .retain(|(h, _)| !h.eq_ignore_ascii_case(header));
        self.headers.push((header, value.to_string()));
        self
    }
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

fn get_query(query: &str) -> String {
    format!("/graphql?query={}", encode(query))
}

fn base64url(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// What came back: status, and the body as JSON (Null when it is not JSON).
fn send(app: &TestApp, case: &Case) -> (u16, Value, String) {
    let request = case.headers.iter().fold(
        ureq::request(case.method, &format!("{}{}", app.base, case.path)),
        |r, (name, value)| r.set(name, value),
    );
    let result = match &case.body {
        Some(body) => request.send_bytes(body),
        None => request.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return (0, Value::Null, format!("transport error: {e}")),
    };
    let status = response.status();
    let body = response.into_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::Null),
        body,
    )
}

/// Every error of a response, or of each response of a batch.
fn errors(body: &Value) -> Vec<Value> {
    let responses: Vec<&Value> = match body {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    responses
        .iter()
        .flat_map(|r| r["errors"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// Whether a reply matches what a row expects; the reason when it does not.
fn check(
    status: u16,
    body: &Value,
    text: &str,
    want_status: u16,
    want_code: Code,
) -> Result<(), String> {
    let errors = errors(body);
    if let Some(uncoded) = errors.iter().find(|e| !e["extensions"]["code"].is_string()) {
        return Err(format!("an error without a code: {uncoded}"));
    }
    let code = errors
        .first()
        .map(|e| e["extensions"]["code"].as_str().unwrap().to_string());
    let json_body = body.is_object() || body.is_array();
    if status != want_status || code.as_deref() != want_code || !json_body {
        let mut text = text.to_string();
        if text.len() > 600 {
            text.truncate(600);
            text.push('…');
        }
        return Err(format!(
            "expected {want_status} {want_code:?}, got {status} {code:?}: {text}"
        ));
    }
    Ok(())
}

/// The ids the corpus aims at, read from the built-in dataset.
struct Targets {
    kosovo: String,
    osmani: String,
    reuters: String,
    statement: String,
    agreement: String,
    provision: String,
}

fn targets(app: &TestApp) -> Targets {
    let data = app.data(
        r#"{ country(code: "XK") { id }
             people(filter: { name: "Osmani" }) { edges { node { id } } }
             sources(first: 100) { edges { node { id title } } }
             statements(first: 1) { edges { node { id } } }
             agreements(first: 50) { edges { node { id provisions { id } } } } }"#,
    );
    let id = |v: &Value| v["id"].as_str().expect("an id").to_string();
    let reuters = nodes(&data["sources"])
        .into_iter()
        .find(|s| s["title"].as_str().unwrap().contains("Zoom"))
        .expect("the Reuters article");
    let agreement = nodes(&data["agreements"])
        .into_iter()
        .find(|a| !a["provisions"].as_array().unwrap().is_empty())
        .expect("an agreement with provisions");
    Targets {
        kosovo: id(&data["country"]),
        osmani: id(&nodes(&data["people"])[0]),
        reuters: id(&reuters),
        statement: id(&nodes(&data["statements"])[0]),
        provision: id(&agreement["provisions"][0]),
        agreement: id(&agreement),
    }
}

const CONNECTIONS: [&str; 9] = [
    "countries",
    "people",
    "organizations",
    "agreements",
    "relations",
    "missions",
    "statements",
    "events",
    "sources",
];

/// Everything the corpus might have changed. `tag` aliases every root field, so that the
/// second reading cannot come from the response cache.
fn fingerprint(app: &TestApp, admin: &str, targets: &Targets, tag: &str) -> Value {
    let mut print = serde_json::Map::new();
    for connection in CONNECTIONS {
        let data = app.data(&format!(
            "{{ {tag}: {connection}(first: 100) {{ totalCount edges {{ node {{ id }} }} }} }}"
        ));
        print.insert(connection.into(), data[tag].clone());
    }
    let data = app.data(&format!(
        r#"{{ {tag}: country(code: "XK") {{ name aliases officialName capital }}
             {tag}Search: search(query: "Kosovo Israel embassy", first: 50) {{ node {{ id }} }} }}"#
    ));
    print.insert("kosovo".into(), data[tag].clone());
    print.insert("search".into(), data[format!("{tag}Search")].clone());
    let log = "changeLog { revision updatedAt revisions { number at by action fields } }";
    for id in [
        &targets.kosovo,
        &targets.osmani,
        &targets.reuters,
        &targets.statement,
        &targets.agreement,
    ] {
        let data = app.data_with(
            &format!(
                "query($id: ID!) {{ {tag}: node(id: $id) {{ id
                    ... on Country {{ {log} }} ... on Person {{ name aliases {log} }}
                    ... on Source {{ title text {log} }} ... on Statement {{ text {log} }}
                    ... on Agreement {{ title provisions {{ id text }} {log} }} }} }}"
            ),
            json!({ "id": id }),
        );
        assert!(data[tag].is_object(), "{id} is gone: {data:#}");
        print.insert(id.clone(), data[tag].clone());
    }
    let keys = app.data_as(
        admin,
        "{ apiKeys { name role revoked expiresAt createdAt } }",
        json!({}),
    );
    print.insert("apiKeys".into(), keys["apiKeys"].clone());
    Value::Object(print)
}

const CREATE_PERSON: &str = "mutation($input: PersonInput!) { createPerson(input: $input) { id } }";
const CREATE_COUNTRY: &str =
    "mutation($input: CountryInput!) { createCountry(input: $input) { code } }";
const CREATE_SOURCE: &str = "mutation($input: SourceInput!) { createSource(input: $input) { id } }";
const CREATE_STATEMENT: &str =
    "mutation($input: StatementInput!) { createStatement(input: $input) { id } }";
const UPDATE_PERSON: &str = "mutation($id: ID!, $input: PersonInput!, $rev: Int) { updatePerson(id: $id, input: $input, expectedRevision: $rev) { id } }";
const DELETE: &str = "mutation($id: ID!, $cascade: Boolean! = false, $rev: Int) { deleteNode(id: $id, cascade: $cascade, expectedRevision: $rev) { deletedIds } }";
const CREATE_KEY: &str = "mutation($name: String!, $role: ApiKeyRole!, $at: String) { createApiKey(name: $name, role: $role, expiresAt: $at) { secret } }";
const REUTERS: &str = "reuters-israel-kosovo-relations";
/// About 60 KB of JSON: each statement with its whole article, and the articles twice.
const TOO_LARGE: &str = "{ statements(first: 100) { edges { node { text source { source { text } } } } } sources { edges { node { a: text b: text } } } }";

/// A person with one post citing the Reuters article.
fn person(name: &str, excerpt: &str) -> Value {
    json!({ "input": { "name": name, "posts": [{ "title": "Envoy", "country": "IL",
        "sources": [{ "source": REUTERS, "excerpt": excerpt }] }] } })
}

/// `levels` of `relations { edges { node { subject { ... } } } }` under a country.
fn deep_query(levels: usize) -> String {
    format!(
        "{{ country(code: \"XK\") {{ {} name {} }} }}",
        "relations(first: 1) { edges { node { subject { ".repeat(levels),
        "} } } } ".repeat(levels)
    )
}

#[rustfmt::skip]
fn corpus(keys: &Keys, t: &Targets) -> Vec<Case> {
    let writer = bearer(&keys.writer);
    let admin = bearer(&keys.admin);
    let typename = json!({ "query": "{ __typename }" });
    // A batch whose operations each fit the complexity budget (700 of 2,000), but not together.
    let costly = |i: usize| json!({ "query": format!("{{ c{i}: countries(first: 100) {{ edges {{ node {{ a: unMember b: unMember c: unMember d: unMember e: unMember }} }} }} }}") });
    let deep_json = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let mut deep_variables = String::from("1");
    for _ in 0..1000 {
        deep_variables = format!("{{\"a\":{deep_variables}}}");
    }
    let deep_introspection = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(MAX_DEPTH),
        "} ".repeat(MAX_DEPTH)
    );
    let cycle = "{ ...A } fragment A on Query { __typename ...B } fragment B on Query { ...A }";
    let include_twice = "{ __typename @include(if: true) @include(if: true) }";
    let unknown_hash = json!({ "persistedQuery": { "version": 1, "sha256Hash": "0".repeat(64) } });
    vec![
        // --- The body is not a GraphQL request.
        post("non-JSON body", JSON, "{ not json", 400, BAD_REQUEST),
        post("empty body", JSON, "", 400, BAD_REQUEST),
        post("truncated JSON", JSON, r#"{"query": "{ __typename }""#, 400, BAD_REQUEST),
        post("JSON string", JSON, r#""{ __typename }""#, 400, BAD_REQUEST),
        post("JSON number", JSON, "42", 400, BAD_REQUEST),
        post("JSON null", JSON, "null", 400, BAD_REQUEST),
        post("batch of numbers", JSON, "[1, 2]", 400, BAD_REQUEST),
        post("empty batch", JSON, "[]", 400, BAD_REQUEST),
        post_json("batch over limits.max_batch", json!(vec![typename.clone(); MAX_BATCH + 1]), 400, BAD_REQUEST),
        post_json("batch with a request missing its query", json!([typename.clone(), {}]), 400, BAD_REQUEST),
        post("JSON nested 5,000 deep", JSON, deep_json, 400, BAD_REQUEST),
        post("variables nested 1,000 deep", JSON, format!(r#"{{"query": "{{ __typename }}", "variables": {deep_variables}}}"#), 400, BAD_REQUEST),
        post("invalid UTF-8", JSON, b"{\"query\": \"{ __typename \xff\xfe }\"}".to_vec(), 400, BAD_REQUEST),
        post("a lone UTF-16 surrogate", JSON, r#"{"query": "{ __typename } # \ud800"}"#, 400, BAD_REQUEST),
        // --- Content types.
        post("Content-Type text/plain", "text/plain", typename.to_string(), 415, BAD_REQUEST),
        post("empty Content-Type", "", typename.to_string(), 415, BAD_REQUEST),
        post("Content-Type form-urlencoded", "application/x-www-form-urlencoded", "query=%7B__typename%7D", 415, BAD_REQUEST),
        post("Content-Type multipart", "multipart/form-data; boundary=x", "--x--", 415, BAD_REQUEST),
        post("Content-Type application/graphql", "application/graphql", "{ __typename }", 415, BAD_REQUEST),
        // --- The request object is malformed.
        post_json("missing query", json!({ "variables": {} }), 400, BAD_REQUEST),
        post_json("query is a number", json!({ "query": 42 }), 400, BAD_REQUEST),
        post_json("query is null", json!({ "query": null }), 400, BAD_REQUEST),
        post_json("query is an object", json!({ "query": { "q": "{ __typename }" } }), 400, BAD_REQUEST),
        post_json("variables are a list", json!({ "query": "{ __typename }", "variables": [1] }), 400, BAD_REQUEST),
        post_json("variables are a string", json!({ "query": "{ __typename }", "variables": "{}" }), 400, BAD_REQUEST),
        post_json("operationName is a number", json!({ "query": "{ __typename }", "operationName": 5 }), 400, BAD_REQUEST),
        post_json("empty query", json!({ "query": "" }), 200, PARSE_FAILED),
        post_json("query of only a comment", json!({ "query": "# nothing here" }), 200, PARSE_FAILED),
        // --- Methods and routes.
        call("PUT", "PUT", "/graphql", 405, BAD_REQUEST),
        call("DELETE", "DELETE", "/graphql", 405, BAD_REQUEST),
        call("PATCH", "PATCH", "/graphql", 405, BAD_REQUEST),
        call("GET without a query", "GET", "/graphql", 400, BAD_REQUEST),
        call("GET with an empty query", "GET", "/graphql?query=", 400, BAD_REQUEST),
        call("GET with variables that are not JSON", "GET", &format!("{}&variables={}", get_query("{ __typename }"), encode("{bad")), 400, BAD_REQUEST),
        call("mutation over GET", "GET", &get_query(&format!("mutation {{ deleteNode(id: \"{}\") {{ deletedIds }} }}", t.statement)), 405, BAD_REQUEST),
        call("mutation over GET chosen by operationName", "GET", &format!("{}&operationName=M", get_query("query Q { __typename } mutation M { revokeApiKey(name: \"admin-bot\") { name } }")), 405, BAD_REQUEST),
        call("GET of an unknown persisted query", "GET", &format!("/graphql?extensions={}", encode(&unknown_hash.to_string())), 200, PERSISTED_QUERY_NOT_FOUND),
        // --- Limits.
        post_json("body over limits.max_body_bytes", json!({ "query": format!("{{ __typename }} # {}", "x".repeat(MAX_BODY_BYTES)) }), 413, PAYLOAD_TOO_LARGE),
        op("selection over limits.max_depth", &deep_query(3), json!({}), 200, VALIDATION_FAILED),
        op("selection over the parser's nesting limit", &format!("{}{}", "{ a ".repeat(100), "}".repeat(100)), json!({}), 200, PARSE_FAILED),
        // Found by this corpus: this one overflowed the parser's stack and killed the process.
        op("list value nested 3,000 deep", &format!("{{ country(code: {}{}) {{ name }} }}", "[".repeat(3000), "]".repeat(3000)), json!({}), 200, PARSE_FAILED),
        // Found by this corpus: validation walked all 2^20 spreads, holding a worker for 6 s.
        op("fragment spreads doubling 20 deep", &format!("{{ ...F0 }} {} fragment F20 on Query {{ __typename }}",
            (0..20).map(|i| format!("fragment F{i} on Query {{ ...F{n} ...F{n} }}", n = i + 1)).collect::<String>()), json!({}), 200, VALIDATION_FAILED),
        op("introspection nested past limits.max_depth", &deep_introspection, json!({}), 200, VALIDATION_FAILED),
        op("complexity over the limit", "{ countries(first: 100) { edges { node { relations(first: 100) { edges { node { kind } } } } } } }", json!({}), 200, VALIDATION_FAILED),
        op("aliases multiplying the complexity", &format!("{{ {} }}", (0..30).map(|i| format!("a{i}: countries(first: 100) {{ totalCount }}")).collect::<Vec<_>>().join(" ")), json!({}), 200, VALIDATION_FAILED),
        post_json("batch over the shared complexity budget", json!([costly(0), costly(1), costly(2)]), 200, VALIDATION_FAILED),
        op("response over limits.max_response_bytes", TOO_LARGE, json!({}), 200, RESPONSE_TOO_LARGE),
        op("700 @include on one field", &format!("{{ __typename {} }}", "@include(if: true) ".repeat(700)), json!({}), 200, VALIDATION_FAILED),
        // --- Documents that do not validate.
        op("syntax error", "{ country(code: }", json!({}), 200, PARSE_FAILED),
        op("unknown field", "{ nope }", json!({}), 200, VALIDATION_FAILED),
        op("unknown argument", r#"{ country(code: "XK", nope: 1) { name } }"#, json!({}), 200, VALIDATION_FAILED),
        op("missing required argument", "{ country { name } }", json!({}), 200, VALIDATION_FAILED),
        op("selection on a scalar", r#"{ country(code: "XK") { name { length } } }"#, json!({}), 200, VALIDATION_FAILED),
        op("object without a selection", r#"{ country(code: "XK") }"#, json!({}), 200, VALIDATION_FAILED),
        op("fragment on an unknown type", "{ ...F } fragment F on Nope { id }", json!({}), 200, VALIDATION_FAILED),
        op("unknown directive", "{ __typename @nope }", json!({}), 200, VALIDATION_FAILED),
        op("repeated @include", include_twice, json!({}), 200, VALIDATION_FAILED),
        op("@skip without if", "{ __typename @skip }", json!({}), 200, VALIDATION_FAILED),
        op("@skip on the operation", "query @skip(if: true) { __typename }", json!({}), 200, VALIDATION_FAILED),
        op("fragment cycle", cycle, json!({}), 200, VALIDATION_FAILED),
        op("unused fragment", "{ __typename } fragment F on Query { __typename }", json!({}), 200, VALIDATION_FAILED),
        op("unused variable", "query($x: Int) { __typename }", json!({ "x": 1 }), 200, VALIDATION_FAILED),
        op("undefined variable", "{ countries(first: $n) { totalCount } }", json!({ "n": 1 }), 200, VALIDATION_FAILED),
        op("variable of an unknown type", "query($x: Nope) { country(code: $x) { name } }", json!({}), 200, VALIDATION_FAILED),
        op("variable used at the wrong type", "query($n: String) { countries(first: $n) { totalCount } }", json!({ "n": "1" }), 200, VALIDATION_FAILED),
        op("variable value of the wrong type", "query($n: Int) { countries(first: $n) { totalCount } }", json!({ "n": "ten" }), 200, VALIDATION_FAILED),
        op("required variable missing", "query($c: String!) { country(code: $c) { name } }", json!({}), 200, VALIDATION_FAILED),
        op("required variable null", "query($c: String!) { country(code: $c) { name } }", json!({ "c": null }), 200, VALIDATION_FAILED),
        op("Int literal out of range", "{ countries(first: 99999999999) { totalCount } }", json!({}), 200, VALIDATION_FAILED),
        op("Float for an Int", "{ countries(first: 1.5) { totalCount } }", json!({}), 200, VALIDATION_FAILED),
        op("unknown filter field", r#"{ countries(filter: { nope: "x" }) { totalCount } }"#, json!({}), 200, VALIDATION_FAILED),
        op("unknown enum value", "{ missions(filter: { kind: PALACE }) { totalCount } }", json!({}), 200, VALIDATION_FAILED),
        op("two operations and no operationName", "query A { __typename } query B { __typename }", json!({}), 200, VALIDATION_FAILED),
        post_json("operationName naming no operation", json!({ "query": "query A { __typename }", "operationName": "B" }), 200, VALIDATION_FAILED),
        op("conflicting fields under one alias", r#"{ a: country(code: "XK") { name } a: country(code: "RS") { name } }"#, json!({}), 200, VALIDATION_FAILED),
        op("subscription over HTTP", "subscription { statementAdded { text } }", json!({}), 200, VALIDATION_FAILED),
        // --- Bad argument values.
        op("node() of a malformed id", r#"{ node(id: "%%% not an id") { id } }"#, json!({}), 200, NO_ERROR),
        op("node() of an id of an unknown kind", &format!(r#"{{ node(id: "{}") {{ id }} }}"#, base64url("Planet:earth")), json!({}), 200, NO_ERROR),
        op("person() of a country's id", &format!(r#"{{ person(id: "{}") {{ name }} }}"#, t.kosovo), json!({}), 200, NO_ERROR),
        op("cursor that is not one", r#"{ countries(after: "@@@") { totalCount } }"#, json!({}), 200, BAD_USER_INPUT),
        op("first over limits.max_page_size", "{ countries(first: 101) { totalCount } }", json!({}), 200, BAD_USER_INPUT),
        op("negative first", "{ countries(first: -1) { totalCount } }", json!({}), 200, BAD_USER_INPUT),
        op("month 13 in a date filter", r#"{ events(filter: { from: "2021-13" }) { totalCount } }"#, json!({}), 200, BAD_USER_INPUT),
        op("February 30 in a date variable", "query($d: PartialDate) { agreements(filter: { signedFrom: $d }) { totalCount } }", json!({ "d": "2021-02-30" }), 200, BAD_USER_INPUT),
        op("a date that is not one", r#"{ statements(filter: { to: "yesterday" }) { totalCount } }"#, json!({}), 200, BAD_USER_INPUT),
        op("unknown country code in a filter", r#"{ agreements(filter: { party: "ZZ" }) { totalCount } }"#, json!({}), 200, BAD_USER_INPUT),
        op("unknown host country", r#"{ missions(filter: { hostCountry: "XXXX" }) { totalCount } }"#, json!({}), 200, BAD_USER_INPUT),
        op("about neither code nor id", r#"{ statements(filter: { about: "not-a-thing" }) { totalCount } }"#, json!({}), 200, BAD_USER_INPUT),
        op("speaker that is a country", &format!(r#"{{ statements(filter: {{ speaker: "{}" }}) {{ totalCount }} }}"#, t.kosovo), json!({}), 200, BAD_USER_INPUT),
        op("name filter without a letter", r#"{ people(filter: { name: "--" }) { totalCount } }"#, json!({}), 200, BAD_USER_INPUT),
        op("blank search", r#"{ search(query: "   ") { score } }"#, json!({}), 200, BAD_USER_INPUT),
        op("search with first over the limit", r#"{ search(query: "Kosovo", first: 100000) { score } }"#, json!({}), 200, BAD_USER_INPUT),
        op("search with a negative first", r#"{ search(query: "Kosovo", first: -1) { score } }"#, json!({}), 200, BAD_USER_INPUT),
        op("search in query-parser syntax", r#"{ search(query: "title:x AND (y OR \"z* ~2 ^3") { score } }"#, json!({}), 200, NO_ERROR),
        op("country code of 10,000 characters", &format!(r#"{{ country(code: "{}") {{ name }} }}"#, "X".repeat(10_000)), json!({}), 200, NO_ERROR),
        // --- Keys and roles.
        op("mutation without a key", &format!(r#"mutation {{ deleteNode(id: "{}") {{ deletedIds }} }}"#, t.statement), json!({}), 200, UNAUTHENTICATED),
        op_as("mutation with a made-up key", "Bearer dg_made-up", CREATE_SOURCE, json!({ "input": { "title": "T", "text": "Text." } }), 200, UNAUTHENTICATED),
        op_as("mutation with the Basic scheme", &format!("Basic {}", keys.writer), CREATE_SOURCE, json!({ "input": { "title": "T", "text": "Text." } }), 200, UNAUTHENTICATED),
        op_as("Bearer without a key", "Bearer", CREATE_SOURCE, json!({ "input": { "title": "T", "text": "Text." } }), 200, UNAUTHENTICATED),
        op_as("key of 10,000 characters", &bearer(&"k".repeat(10_000)), CREATE_SOURCE, json!({ "input": { "title": "T", "text": "Text." } }), 200, UNAUTHENTICATED),
        op_as("a read with a made-up key", "Bearer dg_made-up", "{ __typename }", json!({}), 200, UNAUTHENTICATED),
        op("apiKeys without a key", "{ apiKeys { name } }", json!({}), 200, UNAUTHENTICATED),
        op_as("apiKeys as a writer", &writer, "{ apiKeys { name } }", json!({}), 200, FORBIDDEN),
        op_as("a writer creating a country", &writer, CREATE_COUNTRY, json!({ "input": { "code": "QZ", "alpha3": "QZQ", "name": "Qzland" } }), 200, FORBIDDEN),
        op_as("a writer deleting a country", &writer, DELETE, json!({ "id": t.kosovo }), 200, FORBIDDEN),
        op_as("a writer cascading", &writer, DELETE, json!({ "id": t.osmani, "cascade": true }), 200, FORBIDDEN),
        op_as("a writer making a key", &writer, CREATE_KEY, json!({ "name": "mine", "role": "ADMIN" }), 200, FORBIDDEN),
        op_as("a writer revoking the admin's key", &writer, "mutation { revokeApiKey(name: \"admin-bot\") { name } }", json!({}), 200, FORBIDDEN),
        post_json("a mutation without a key inside a batch", json!([typename.clone(), { "query": format!("mutation {{ deleteNode(id: \"{}\") {{ deletedIds }} }}", t.statement) }]), 200, UNAUTHENTICATED),
        // --- Writes the data refuses.
        op_as("deleteNode of a made-up id", &admin, DELETE, json!({ "id": base64url("Person:nobody-at-all") }), 200, NOT_FOUND),
        op_as("deleteNode of garbage", &admin, DELETE, json!({ "id": "%%%" }), 200, BAD_USER_INPUT),
        op_as("deleteNode of a provision", &admin, DELETE, json!({ "id": t.provision }), 200, BAD_USER_INPUT),
        op_as("deleteNode of a referenced country", &admin, DELETE, json!({ "id": t.kosovo }), 200, CONFLICT),
        op_as("deleteNode with a stale expectedRevision", &writer, DELETE, json!({ "id": t.statement, "rev": 99 }), 200, CONFLICT),
        op_as("updatePerson of a made-up id", &writer, UPDATE_PERSON, json!({ "id": "nobody-at-all", "input": { "name": "Nobody" } }), 200, NOT_FOUND),
        op_as("updatePerson with a stale expectedRevision", &writer, UPDATE_PERSON, json!({ "id": t.osmani, "input": { "name": "Vjosa Osmani" }, "rev": 99 }), 200, CONFLICT),
        op_as("updatePerson with a negative expectedRevision", &writer, UPDATE_PERSON, json!({ "id": t.osmani, "input": { "name": "Vjosa Osmani" }, "rev": -1 }), 200, BAD_USER_INPUT),
        op_as("updateCountry changing its code", &admin, "mutation { updateCountry(code: \"XK\", input: { code: \"XX\", alpha3: \"XKX\", name: \"Kosovo\" }) { name } }", json!({}), 200, BAD_USER_INPUT),
        op_as("duplicate country code", &admin, CREATE_COUNTRY, json!({ "input": { "code": "XK", "alpha3": "XKX", "name": "Kosovo again" } }), 200, CONFLICT),
        op_as("duplicate country code in lower case", &admin, CREATE_COUNTRY, json!({ "input": { "code": "xk", "alpha3": "QZQ", "name": "Kosovo again" } }), 200, CONFLICT),
        op_as("duplicate alpha-3 code", &admin, CREATE_COUNTRY, json!({ "input": { "code": "QZ", "alpha3": "SRB", "name": "Serbia again" } }), 200, CONFLICT),
        op_as("country code of one letter", &admin, CREATE_COUNTRY, json!({ "input": { "code": "Q", "alpha3": "QQQ", "name": "Q" } }), 200, BAD_USER_INPUT),
        op_as("duplicate source key", &writer, CREATE_SOURCE, json!({ "input": { "key": REUTERS, "title": "Again", "text": "Text." } }), 200, CONFLICT),
        op_as("excerpt not in its source", &writer, CREATE_PERSON, person("Somebody", "words the article never says"), 200, BAD_USER_INPUT),
        op_as("citation of an unknown source", &writer, CREATE_PERSON, json!({ "input": { "name": "Somebody", "posts": [{ "title": "Envoy", "country": "IL", "sources": [{ "source": "no-such-source", "excerpt": "Ned Price" }] }] } }), 200, NOT_FOUND),
        op_as("citation starting past the text", &writer, CREATE_PERSON, json!({ "input": { "name": "Somebody", "posts": [{ "title": "Envoy", "country": "IL", "sources": [{ "source": REUTERS, "excerpt": "Ned Price", "start": 1_000_000 }] }] } }), 200, BAD_USER_INPUT),
        op_as("direct quote not verbatim", &writer, CREATE_STATEMENT, json!({ "input": { "text": "Deeper ties help peace.", "direct": true, "medium": "TWEET", "source": { "source": REUTERS, "excerpt": "Deeper international ties further contribute to peace" } } }), 200, BAD_USER_INPUT),
        op_as("post ending before it starts", &writer, CREATE_PERSON, json!({ "input": { "name": "Somebody", "posts": [{ "title": "Envoy", "start": "2021-05", "end": "2020", "sources": [{ "source": REUTERS, "excerpt": "Ned Price" }] }] } }), 200, BAD_USER_INPUT),
        op_as("February 30 in an input", &writer, CREATE_SOURCE, json!({ "input": { "title": "T", "text": "Text.", "published": "2021-02-30" } }), 200, BAD_USER_INPUT),
        op_as("NUL in a name", &writer, CREATE_PERSON, person("Ho\u{0}ti", "Ned Price"), 200, BAD_USER_INPUT),
        op_as("terminal escape in a name", &writer, CREATE_PERSON, person("Evil\u{1b}[2J", "Ned Price"), 200, BAD_USER_INPUT),
        op_as("line break in a name", &writer, CREATE_PERSON, person("Two\nLines", "Ned Price"), 200, BAD_USER_INPUT),
        op_as("blank name", &writer, CREATE_PERSON, person(" \t ", "Ned Price"), 200, BAD_USER_INPUT),
        op_as("name of 1,001 characters", &writer, CREATE_PERSON, person(&"n".repeat(1001), "Ned Price"), 200, BAD_USER_INPUT),
        op_as("key of 10,000 characters in an input", &writer, CREATE_SOURCE, json!({ "input": { "key": "k".repeat(10_000), "title": "T", "text": "Text." } }), 200, BAD_USER_INPUT),
        op_as("key with a slash", &writer, CREATE_SOURCE, json!({ "input": { "key": "a/b", "title": "T", "text": "Text." } }), 200, BAD_USER_INPUT),
        op_as("NUL in an article text", &writer, CREATE_SOURCE, json!({ "input": { "title": "T", "text": "One\u{0}two." } }), 200, BAD_USER_INPUT),
        op_as("addSource with one bad fact stores nothing", &writer, "mutation($input: AddSourceInput!) { addSource(input: $input) { factIds } }", json!({ "input": {
            "source": { "title": "Half true", "url": "https://example.org/half", "text": "Kosovo will open an embassy in Nairobi." },
            "missions": [{ "kind": "EMBASSY", "sendingCountry": "XK", "hostCountry": "KE", "status": "PLANNED", "sources": [{ "excerpt": "Kosovo will open an embassy in Nairobi" }] }],
            "statements": [{ "text": "not in the article", "direct": true, "medium": "SPEECH", "source": { "excerpt": "Kosovo will open" } }] } }), 200, BAD_USER_INPUT),
        op_as("key that expired before it was made", &admin, CREATE_KEY, json!({ "name": "old", "role": "WRITER", "at": "2001-01-01T00:00:00Z" }), 200, BAD_USER_INPUT),
        op_as("key name taken", &admin, CREATE_KEY, json!({ "name": "writer-bot", "role": "ADMIN" }), 200, CONFLICT),
        op_as("key name with spaces", &admin, CREATE_KEY, json!({ "name": "a b", "role": "WRITER" }), 200, BAD_USER_INPUT),
        op_as("revoking an unknown key", &admin, "mutation { revokeApiKey(name: \"nobody\") { name } }", json!({}), 200, NOT_FOUND),
        // --- Persisted queries.
        post_json("unknown persisted-query hash", json!({ "extensions": unknown_hash }), 200, PERSISTED_QUERY_NOT_FOUND),
        post_json("persisted-query hash not of its query", json!({ "query": "{ __typename }", "extensions": unknown_hash }), 200, BAD_PERSISTED_QUERY),
        post_json("persisted-query version 2", json!({ "query": "{ __typename }", "extensions": { "persistedQuery": { "version": 2, "sha256Hash": "0".repeat(64) } } }), 200, BAD_PERSISTED_QUERY),
        // --- Under the GraphQL-over-HTTP media type, requests that never ran are 4xx.
        op("parse error, graphql-response+json", "{ country(code: }", json!({}), 400, PARSE_FAILED).with("Accept", GRAPHQL_RESPONSE),
        op("validation error, graphql-response+json", "{ nope }", json!({}), 400, VALIDATION_FAILED).with("Accept", GRAPHQL_RESPONSE),
        op("made-up key, graphql-response+json", "{ __typename }", json!({}), 401, UNAUTHENTICATED).with("Accept", GRAPHQL_RESPONSE).with("Authorization", "Bearer dg_made-up"),
        op("field error, graphql-response+json", "{ countries(first: 101) { totalCount } }", json!({}), 200, BAD_USER_INPUT).with("Accept", GRAPHQL_RESPONSE),
        op("null for a required variable, graphql-response+json", "query($c: String!) { country(code: $c) { name } }", json!({ "c": null }), 400, VALIDATION_FAILED).with("Accept", GRAPHQL_RESPONSE),
        op("required variable missing, graphql-response+json", "query($c: String!) { country(code: $c) { name } }", json!({}), 400, VALIDATION_FAILED).with("Accept", GRAPHQL_RESPONSE),
    ]
}

fn address(app: &TestApp) -> &str {
    app.base.trim_start_matches("http://")
}

/// Sends raw bytes, then reads what comes back until the server closes (or `wait` passes).
fn exchange(app: &TestApp, request: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(address(app)).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(request);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).to_string()
}

/// The status and JSON body of a raw HTTP answer.
fn parse_raw(answer: &str) -> (u16, Value) {
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Requests no HTTP client would send, over raw TCP: status and code (None where the HTTP layer
/// refuses them before any handler, with an empty body).
fn raw_corpus(app: &TestApp, failures: &mut Vec<String>) -> usize {
    let over = "x".repeat(MAX_BODY_BYTES + 10);
    let chunked_over = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{over}\r\n0\r\n\r\n",
        over.len()
    );
    let body = r#"{"query":"{ __typename }"}"#;
    let cases: Vec<(&str, Vec<u8>, u16, Code)> = vec![
        ("request line of garbage", b"GARBAGE\r\n\r\n".to_vec(), 400, None),
        ("NUL in the request line", b"GET /health\0z HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400, None),
        ("unknown HTTP version", b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(), 400, None),
        ("header line without a colon", b"GET /healthz HTTP/1.1\r\nHost: x\r\nBroken header\r\n\r\n".to_vec(), 400, None),
        ("Content-Length that is not a number", format!("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{body}").into_bytes(), 400, None),
        ("two different Content-Lengths", format!("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nContent-Length: 5\r\n\r\n{body}", body.len()).into_bytes(), 400, None),
        ("Content-Length and chunked together", format!("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n{body}", body.len()).into_bytes(), 400, None),
        ("chunk size that is not hex", format!("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{body}\r\n0\r\n\r\n").into_bytes(), 400, BAD_REQUEST),
        ("chunked body over limits.max_body_bytes", chunked_over.into_bytes(), 413, PAYLOAD_TOO_LARGE),
        ("no Content-Type", format!("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).into_bytes(), 415, BAD_REQUEST),
        ("URL of 200 KB", format!("GET /graphql?query={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(200_000)).into_bytes(), 431, None),
        ("header of 200 KB", format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(200_000)).into_bytes(), 431, None),
    ];
    let count = cases.len();
    for (name, request, want_status, want_code) in cases {
        let answer = exchange(app, &request, Duration::from_secs(5));
        let (status, body) = parse_raw(&answer);
        let code = errors(&body)
            .first()
            .and_then(|e| e["extensions"]["code"].as_str().map(str::to_string));
        if status != want_status || code.as_deref() != want_code {
            let mut answer = answer;
            answer.truncate(400);
            failures.push(format!(
                "raw {name}: expected {want_status} {want_code:?}, got {status} {code:?}: {answer:?}"
            ));
        }
    }
    count
}

/// A body that stops arriving: a 408 once limits.request_read_timeout_ms has passed.
fn trickled_body(app: &TestApp, failures: &mut Vec<String>) {
    let answer = exchange(
        app,
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        Duration::from_millis(READ_TIMEOUT_MS * 10),
    );
    let (status, body) = parse_raw(&answer);
    let code = body["errors"][0]["extensions"]["code"].as_str();
    if (status, code) != (408, REQUEST_TIMEOUT) {
        failures.push(format!(
            "raw trickled body: expected 408 {REQUEST_TIMEOUT:?}, got {answer:?}"
        ));
    }
}

type Socket = WebSocket<TcpStream>;

/// What a WebSocket case must end with.
#[derive(Debug, PartialEq)]
enum WsOutcome {
    /// The upgrade is refused with this HTTP status.
    Refused(u16),
    /// The server closes the connection with this code.
    Closed(u16),
    /// The operation gets an `error` or `next` message whose first error has this code.
    Error(String),
}

struct WsCase {
    name: &'static str,
    protocol: Option<&'static str>,
    frames: Vec<Message>,
    outcome: WsOutcome,
}

fn text(message: Value) -> Message {
    Message::text(message.to_string())
}

fn init(payload: Value) -> Message {
    text(json!({ "type": "connection_init", "payload": payload }))
}

fn subscribe(id: &str, query: &str) -> Message {
    text(json!({ "id": id, "type": "subscribe", "payload": { "query": query } }))
}

/// Runs one WebSocket case: connects, sends its frames, and reports how it ended.
fn ws_run(app: &TestApp, case: &WsCase) -> WsOutcome {
    let url = format!("{}/graphql", app.base.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    if let Some(protocol) = case.protocol {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
    }
    let stream = TcpStream::connect(address(app)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut socket: Socket = match tungstenite::client(request, stream) {
        Ok((socket, _)) => socket,
        Err(tungstenite::handshake::HandshakeError::Failure(tungstenite::Error::Http(
            response,
        ))) => return WsOutcome::Refused(response.status().as_u16()),
        Err(e) => panic!("{}: the handshake failed: {e}", case.name),
    };
    for frame in &case.frames {
        // The server may have closed the connection at an earlier frame.
        let _ = socket.send(frame.clone());
    }
    loop {
        match socket.read() {
            Ok(Message::Text(text)) => {
                let message: Value = serde_json::from_str(&text).unwrap();
                let errors = match message["type"].as_str() {
                    // graphql-ws says why before it closes.
                    Some("connection_ack" | "connection_error" | "pong" | "ka" | "ping") => {
                        continue
                    }
                    Some("error") => message["payload"].clone(),
                    Some("next") => message["payload"]["errors"].clone(),
                    _ => panic!("{}: unexpected {message}", case.name),
                };
                return WsOutcome::Error(
                    errors[0]["extensions"]["code"]
                        .as_str()
                        .unwrap_or("<no code>")
                        .to_string(),
                );
            }
            Ok(Message::Close(frame)) => {
                return WsOutcome::Closed(frame.map_or(1005, |f| u16::from(f.code)))
            }
            Ok(_) => continue,
            Err(e) => panic!(
                "{}: the connection broke without a close frame: {e}",
                case.name
            ),
        }
    }
}

#[rustfmt::skip]
fn ws_corpus(keys: &Keys, t: &Targets) -> Vec<WsCase> {
    const WS: Option<&str> = Some("graphql-transport-ws");
    let ws = |name, protocol, frames, outcome| WsCase { name, protocol, frames, outcome };
    let statements = "subscription { statementAdded { text } }";
    let error = |code: &str| WsOutcome::Error(code.to_string());
    let anonymous = || init(json!({}));
    let writer = init(json!({ "Authorization": bearer(&keys.writer) }));
    let delete = |id: &str| format!("mutation {{ deleteNode(id: \"{id}\") {{ deletedIds }} }}");
    let too_deep = format!("subscription {{ statementAdded {{ event {{ {} title {} }} }} }}", "agreement { events { ".repeat(6), "} } ".repeat(6));
    vec![
        ws("no subprotocol", None, vec![], WsOutcome::Refused(400)),
        ws("an unknown subprotocol", Some("graphql-nope"), vec![], WsOutcome::Refused(400)),
        ws("no connection_init in time", WS, vec![], WsOutcome::Closed(4408)),
        ws("subscribe before connection_init", WS, vec![subscribe("1", statements)], WsOutcome::Closed(4401)),
        ws("a made-up key", WS, vec![init(json!({ "Authorization": "Bearer dg_made-up" }))], WsOutcome::Closed(4403)),
        ws("a second connection_init", WS, vec![anonymous(), anonymous()], WsOutcome::Closed(4429)),
        ws("a message that is not JSON", WS, vec![anonymous(), Message::text("{not json")], WsOutcome::Closed(4400)),
        ws("binary garbage", WS, vec![anonymous(), Message::binary(vec![0xff, 0x00, 0xfe])], WsOutcome::Closed(4400)),
        ws("a message that is a list", WS, vec![anonymous(), Message::text("[]")], WsOutcome::Closed(4400)),
        ws("an unknown message type", WS, vec![anonymous(), text(json!({ "type": "launch" }))], WsOutcome::Closed(4400)),
        ws("subscribe without an id", WS, vec![anonymous(), text(json!({ "type": "subscribe", "payload": { "query": statements } }))], WsOutcome::Closed(4400)),
        ws("subscribe with an empty id", WS, vec![anonymous(), subscribe("", statements)], WsOutcome::Closed(4400)),
        ws("subscribe whose payload is not a request", WS, vec![anonymous(), text(json!({ "id": "1", "type": "subscribe", "payload": { "query": 42 } }))], WsOutcome::Closed(4400)),
        ws("an id already running", WS, vec![anonymous(), subscribe("same", statements), subscribe("same", statements)], WsOutcome::Closed(4409)),
        ws("a message over limits.max_ws_message_bytes", WS, vec![anonymous(), text(json!({ "id": "big", "type": "subscribe", "payload": { "query": statements, "extensions": { "pad": "x".repeat(8192) } } }))], WsOutcome::Closed(1009)),
        ws("a subscription that does not parse", WS, vec![anonymous(), subscribe("1", "subscription {")], error("GRAPHQL_PARSE_FAILED")),
        ws("a subscription of an unknown field", WS, vec![anonymous(), subscribe("1", "subscription { nope }")], error("GRAPHQL_VALIDATION_FAILED")),
        ws("a subscription with an unknown directive", WS, vec![anonymous(), subscribe("1", "subscription { statementAdded @nope { text } }")], error("GRAPHQL_VALIDATION_FAILED")),
        ws("a subscription past limits.max_depth", WS, vec![anonymous(), subscribe("1", &too_deep)], error("GRAPHQL_VALIDATION_FAILED")),
        ws("a mutation without a key", WS, vec![anonymous(), subscribe("1", &delete(&t.statement))], error("UNAUTHENTICATED")),
        ws("a writer deleting a country", WS, vec![writer, subscribe("1", &delete(&t.kosovo))], error("FORBIDDEN")),
        ws("graphql-ws with a made-up key", Some("graphql-ws"), vec![init(json!({ "Authorization": "Bearer dg_made-up" }))], WsOutcome::Closed(4403)),
        ws("a query past limits.max_response_bytes", WS, vec![anonymous(), subscribe("1", TOO_LARGE)], error("RESPONSE_TOO_LARGE")),
        // Found by this corpus: refused over HTTP, it was acknowledged as anonymous here.
        ws("the Basic scheme", WS, vec![init(json!({ "Authorization": format!("Basic {}", keys.writer) }))], WsOutcome::Closed(4403)),
    ]
}

#[test]
fn a_corpus_of_hostile_requests_gets_coded_refusals_and_changes_nothing() {
    let (app, keys) = TestApp::spawn_with_keys_and(|s| {
        s.limits.max_depth = MAX_DEPTH;
        s.limits.max_complexity = 2000;
        s.limits.max_body_bytes = MAX_BODY_BYTES;
        s.limits.max_batch = MAX_BATCH;
        s.limits.max_response_bytes = 32 * 1024;
        s.limits.ws_init_timeout_ms = 1000;
        s.limits.max_ws_message_bytes = 4096;
    });
    let t = targets(&app);
    let before = fingerprint(&app, &keys.admin, &t, "before");

    let mut failures = Vec::new();
    let corpus = corpus(&keys, &t);
    let mut names = std::collections::HashSet::new();
    for case in &corpus {
        assert!(names.insert(case.name), "two cases named {}", case.name);
        let (status, body, text) = send(&app, case);
        if let Err(why) = check(status, &body, &text, case.status, case.code) {
            failures.push(format!(
                "{} {} ({}): {why}",
                case.method,
                case.path.chars().take(60).collect::<String>(),
                case.name
            ));
        }
    }
    let raw = raw_corpus(&app, &mut failures);
    let ws = ws_corpus(&keys, &t);
    for case in &ws {
        let outcome = ws_run(&app, case);
        if outcome != case.outcome {
            failures.push(format!(
                "ws {}: expected {:?}, got {outcome:?}",
                case.name, case.outcome
            ));
        }
    }

    // Deadlines, on a second server whose short ones would trip up the rest of the corpus: an
    // operation past limits.query_timeout_ms, and a body slower than request_read_timeout_ms.
    let (slow, _) = TestApp::spawn_with_keys_and(|s| {
        s.limits.query_timeout_ms = 1;
        s.limits.request_read_timeout_ms = READ_TIMEOUT_MS;
        s.cache.response_bytes = 0;
    });
    let heavy = "{ statements(first: 100) { edges { node { text source { excerpt source { title text } } about { __typename } } } } }";
    let deadline = op("query past its deadline", heavy, json!({}), 200, TIMEOUT);
    let (status, body, text) = send(&slow, &deadline);
    if let Err(why) = check(status, &body, &text, deadline.status, deadline.code) {
        failures.push(format!("query past limits.query_timeout_ms: {why}"));
    }
    trickled_body(&slow, &mut failures);
    assert_eq!(slow.get("/healthz").status, 200);

    println!(
        "{} kinds of hostile request: {} over HTTP, {raw} over raw TCP, {} over WebSocket, 2 past deadlines",
        corpus.len() + raw + ws.len() + 2,
        corpus.len(),
        ws.len()
    );
    let after = fingerprint(&app, &keys.admin, &t, "after");
    assert!(
        failures.is_empty(),
        "{} of the corpus failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(before, after, "the hostile requests changed the data");
    assert_eq!(app.get("/healthz").status, 200);
}
