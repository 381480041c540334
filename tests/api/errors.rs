//! Bad input gets a clear, coded error; malformed requests a 4xx with a JSON body.

use crate::helpers::*;
use serde_json::json;

#[test]
fn malformed_http_requests_get_4xx_with_json_errors() {
    let app = TestApp::spawn();
    let cases = [
        ("application/json", "{ not json", 400),
        ("application/json", r#"{"variables": {}}"#, 400),
        ("application/json", r#"{"query": 42}"#, 400),
        ("text/plain", r#"{"query": "{ __typename }"}"#, 415),
        ("", r#"{"query": "{ __typename }"}"#, 415),
    ];
    for (content_type, body, status) in cases {
        let reply = app.post(content_type, body);
        assert_eq!(
            reply.status, status,
            "{content_type} {body}: {}",
            reply.body
        );
        let errors = reply.json()["errors"].clone();
        assert!(errors[0]["message"].as_str().unwrap().len() > 10);
        assert!(errors[0]["extensions"]["code"].is_string());
    }
    let huge = json!({ "query": format!("{{ __typename }} # {}", "x".repeat(70_000)) }).to_string();
    let reply = app.post("application/json", &huge);
    assert_eq!(reply.status, 413);
    assert_eq!(
        reply.json()["errors"][0]["extensions"]["code"],
        "PAYLOAD_TOO_LARGE"
    );

    let reply = app.get("/graphql");
    assert_eq!(reply.status, 400);
    assert!(reply.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("query"));
    let reply = app.request("PUT", "/graphql");
    assert_eq!(reply.status, 405);
    assert_eq!(app.get("/nowhere").status, 404);
}

#[test]
fn graphql_errors_carry_codes() {
    let app = TestApp::spawn();
    assert_eq!(app.error_code("{ country(code: }"), "GRAPHQL_PARSE_FAILED");
    assert_eq!(app.error_code("{ nope }"), "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(
        app.error_code(r#"{ countries(first: 101) { totalCount } }"#),
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ countries(first: -1) { totalCount } }"#),
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ countries(after: "@@@") { totalCount } }"#),
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ agreements(filter: { party: "ZZ" }) { totalCount } }"#),
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ statements(filter: { about: "not-a-thing" }) { totalCount } }"#),
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ statements(filter: { speaker: "Q291bnRyeTpYSw" }) { totalCount } }"#),
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ search(query: "  ") { score } }"#),
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ people(filter: { name: "--" }) { totalCount } }"#),
        "BAD_USER_INPUT"
    );

    let message = app.errors(r#"{ countries(first: 500) { totalCount } }"#)[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("at most 100"), "{message}");
    let message = app.errors(r#"{ agreements(filter: { party: "ZZ" }) { totalCount } }"#)[0]
        ["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("ZZ") && message.contains("filter.party"),
        "{message}"
    );

    // Malformed partial dates, as literals and as variables.
    let errors = app.errors(r#"{ events(filter: { from: "2021-13" }) { totalCount } }"#);
    assert!(errors[0]["message"].as_str().unwrap().contains("2021-13"));
    let response = app.graphql(
        "query($d: PartialDate) { events(filter: { from: $d }) { totalCount } }",
        json!({ "d": "2021-02-30" }),
    );
    assert!(
        response["errors"][0]["extensions"]["code"].is_string(),
        "{response:#}"
    );
}

#[test]
fn depth_and_complexity_limits_refuse_abusive_queries() {
    let app = TestApp::spawn();
    let deep = "{ country(code: \"XK\") { ".to_string()
        + &"relations(first: 1) { edges { node { subject { ".repeat(6)
        + "name"
        + &" } } } }".repeat(6)
        + " } }";
    let errors = app.errors(&deep);
    assert_eq!(errors[0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("deep"),
        "{errors:#?}"
    );

    let wide = r#"{ countries(first: 100) { edges { node { relations(first: 100) { edges { node { subject { agreements(first: 100) { edges { node { title } } } } } } } } } } }"#;
    let errors = app.errors(wide);
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("complex"),
        "{errors:#?}"
    );
}
