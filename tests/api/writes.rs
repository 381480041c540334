//! The write API over HTTP: keys and roles, each mutation and each refusal, atomicity,
//! integrity, revisions, concurrency.

use crate::helpers::*;
use serde_json::{json, Value};

const REUTERS: &str = "reuters-israel-kosovo-relations";

fn create_person(app: &TestApp, key: &str, name: &str, excerpt: &str) -> Value {
    app.graphql_as(
        key,
        "mutation($input: PersonInput!) { createPerson(input: $input) { id name posts { title country { code } sources { excerpt start end } } changeLog { revision createdAt revisions { by action } } } }",
        json!({ "input": {
            "name": name,
            "posts": [{ "title": "Foreign Minister", "country": "ISR", "sources": [{ "source": REUTERS, "excerpt": excerpt }] }]
        } }),
    )
}

#[test]
fn mutations_need_a_live_key_of_the_right_role() {
    let (app, keys) = TestApp::spawn_with_keys();
    let mutation = r#"mutation { createSource(input: { title: "T", text: "Some text." }) { id } }"#;
    let anonymous = app.graphql(mutation, json!({}));
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{anonymous:#}"
    );
    let bad = app.graphql_as(
        "dg_not-a-key",
        "{ country(code: \"XK\") { name } }",
        json!({}),
    );
    assert_eq!(bad["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let country = json!({ "input": { "code": "ZZ", "alpha3": "ZZZ", "name": "Zedland" } });
    let create_country =
        "mutation($input: CountryInput!) { createCountry(input: $input) { code } }";
    assert_eq!(
        app.error_as(&keys.writer, create_country, country.clone())["extensions"]["code"],
        "FORBIDDEN"
    );
    assert_eq!(
        app.data_as(&keys.admin, create_country, country.clone())["createCountry"]["code"],
        "ZZ"
    );
    assert_eq!(
        app.error_as(&keys.admin, create_country, country)["extensions"]["code"],
        "CONFLICT"
    );
    // Never over GET, with or without a key.
    let get = app.get("/graphql?query=mutation%20%7B%20deleteNode(id%3A%20%22x%22)%20%7B%20deletedIds%20%7D%20%7D");
    assert_eq!(get.status, 405);
    // Reads stay open, and the new country is there.
    assert_eq!(
        app.data(r#"{ country(code: "zzz") { name } }"#)["country"]["name"],
        "Zedland"
    );
}

#[test]
fn create_update_and_read_back_with_history() {
    let (app, keys) = TestApp::spawn_with_keys();
    let created = create_person(
        &app,
        &keys.writer,
        "Yair Lapid",
        "Israeli Foreign Minister Gabi Ashkenazi",
    );
    let person = &created["data"]["createPerson"];
    assert!(created.get("errors").is_none(), "{created:#}");
    let cite = &person["posts"][0]["sources"][0];
    assert_eq!(cite["excerpt"], "Israeli Foreign Minister Gabi Ashkenazi");
    assert!(cite["end"].as_i64().unwrap() - cite["start"].as_i64().unwrap() == 39);
    assert_eq!(person["changeLog"]["revision"], 1);
    assert_eq!(person["changeLog"]["revisions"][0]["by"], "key:writer-bot");
    assert!(person["changeLog"]["createdAt"]
        .as_str()
        .unwrap()
        .ends_with('Z'));

    // Found by the name index and in the country's people at once.
    let found = app.data(r#"{ people(filter: { name: "lapid" }) { totalCount } country(code: "IL") { people { name } } }"#);
    assert_eq!(found["people"]["totalCount"], 1);
    assert!(found["country"]["people"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "Yair Lapid"));

    let update = "mutation($id: ID!, $input: PersonInput!, $rev: Int) { updatePerson(id: $id, input: $input, expectedRevision: $rev) { name aliases changeLog { revision revisions { action fields } } } }";
    let input = json!({ "name": "Yair Lapid", "aliases": ["Lapid"], "posts": [] });
    let updated = app.data_as(
        &keys.writer,
        update,
        json!({ "id": person["id"], "input": input, "rev": 1 }),
    );
    let log = &updated["updatePerson"]["changeLog"];
    assert_eq!(log["revision"], 2);
    assert_eq!(log["revisions"][1]["action"], "UPDATED");
    assert_eq!(log["revisions"][1]["fields"], json!(["aliases", "posts"]));
    let stale = app.error_as(
        &keys.writer,
        update,
        json!({ "id": person["id"], "input": input, "rev": 1 }),
    );
    assert_eq!(stale["extensions"]["code"], "CONFLICT");
    let missing = app.error_as(
        &keys.writer,
        update,
        json!({ "id": "UGVyc29uOm5vYm9keQ", "input": input }),
    );
    assert_eq!(missing["extensions"]["code"], "NOT_FOUND");
}

#[test]
fn invalid_input_is_refused_with_code_and_field_path() {
    let (app, keys) = TestApp::spawn_with_keys();
    let mutation = "mutation($input: PersonInput!) { createPerson(input: $input) { id } }";
    let post = |country: &str, excerpt: &str, start: Value, end: Value| {
        json!({ "input": { "name": "Somebody", "posts": [{ "title": "Envoy", "country": country, "start": start, "end": end,
            "sources": [{ "source": REUTERS, "excerpt": excerpt }] }] } })
    };
    let cases = [
        (
            post("QQ", "Ned Price", Value::Null, Value::Null),
            "NOT_FOUND",
            "input.posts[0].country",
        ),
        (
            post(
                "IL",
                "words the article never says",
                Value::Null,
                Value::Null,
            ),
            "BAD_USER_INPUT",
            "input.posts[0].sources[0].excerpt",
        ),
        (
            post("IL", "Ned Price", json!("2021-05"), json!("2020")),
            "BAD_USER_INPUT",
            "input.posts[0].end",
        ),
    ];
    for (variables, code, field) in cases {
        let error = app.error_as(&keys.writer, mutation, variables);
        assert_eq!(error["extensions"]["code"], code, "{error:#}");
        assert_eq!(error["extensions"]["field"], field, "{error:#}");
    }
    let empty = app.error_as(&keys.writer, mutation, json!({ "input": { "name": "  " } }));
    assert_eq!(
        (
            empty["extensions"]["code"].as_str(),
            empty["extensions"]["field"].as_str()
        ),
        (Some("BAD_USER_INPUT"), Some("input.name"))
    );
    let bad_date = app.graphql_as(
        &keys.writer,
        mutation,
        post("IL", "Ned Price", json!("2021-02-30"), Value::Null),
    );
    assert!(
        bad_date["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2021-02-30"),
        "{bad_date:#}"
    );
    let statement = "mutation($input: StatementInput!) { createStatement(input: $input) { id } }";
    let not_verbatim = app.error_as(&keys.writer, statement, json!({ "input": { "text": "Deeper ties help peace.", "direct": true, "medium": "TWEET",
        "source": { "source": REUTERS, "excerpt": "Deeper international ties further contribute to peace" } } }));
    assert_eq!(not_verbatim["extensions"]["field"], "input.text");
    // Nothing of it was stored.
    assert_eq!(
        app.data(r#"{ people(filter: { name: "Somebody" }) { totalCount } }"#)["people"]
            ["totalCount"],
        0
    );
}

#[test]
fn deletes_respect_references_unless_an_admin_cascades() {
    let (app, keys) = TestApp::spawn_with_keys();
    let osmani = app.data(r#"{ people(filter: { name: "Osmani" }) { edges { node { id } } } }"#);
    let id = nodes(&osmani["people"])[0]["id"].clone();
    let delete = "mutation($id: ID!, $cascade: Boolean!) { deleteNode(id: $id, cascade: $cascade) { deletedIds } }";
    let refused = app.error_as(&keys.writer, delete, json!({ "id": id, "cascade": false }));
    assert_eq!(refused["extensions"]["code"], "CONFLICT");
    let referrers = refused["extensions"]["referrers"].as_array().unwrap();
    assert!(referrers.len() >= 3, "{refused:#}");
    for r in referrers {
        assert!(app.data_with(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": r })
        )["node"]
            .is_object());
    }
    assert_eq!(
        app.error_as(&keys.writer, delete, json!({ "id": id, "cascade": true }))["extensions"]
            ["code"],
        "FORBIDDEN"
    );
    let deleted = app.data_as(&keys.admin, delete, json!({ "id": id, "cascade": true }))
        ["deleteNode"]["deletedIds"]
        .clone();
    assert!(deleted.as_array().unwrap().len() > referrers.len());
    for gone in deleted.as_array().unwrap() {
        assert_eq!(
            app.data_with(
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": gone })
            )["node"],
            Value::Null
        );
    }
    let hits = app.data(
        r#"{ search(query: "Kenya can count on Kosovo") { node { ... on Statement { text } } } }"#,
    );
    let texts = hits.to_string();
    assert!(
        !texts.contains("Kenya can count"),
        "the deleted statement is still searchable: {hits:#}"
    );
    let statement_count =
        app.data(r#"{ statements(filter: { speakerName: "Osmani" }) { totalCount } }"#);
    assert_eq!(statement_count["statements"]["totalCount"], 0);
}

const ADD_SOURCE: &str = "mutation($input: AddSourceInput!) { addSource(input: $input) { source { id title changeLog { revision } } factIds } }";

fn article(url: &str, bad_statement: bool) -> Value {
    let quote = if bad_statement {
        "words not in the article"
    } else {
        "We will open our embassy in Nairobi"
    };
    json!({ "input": {
        "source": { "title": "Kosovo opens embassy in Nairobi", "url": url, "published": "2025-03",
                    "text": "Kosovo's foreign minister said: \"We will open our embassy in Nairobi this year.\" Kenya welcomed it." },
        "people": [{ "key": "kosovo-fm-2025", "name": "Kosovo Foreign Minister (2025)",
                     "posts": [{ "title": "Foreign Minister", "country": "XK", "sources": [{ "excerpt": "Kosovo's foreign minister" }] }] }],
        "missions": [{ "kind": "EMBASSY", "sendingCountry": "XK", "hostCountry": "KE", "city": "Nairobi", "status": "PLANNED",
                       "sources": [{ "excerpt": "We will open our embassy in Nairobi this year." }] }],
        "statements": [{ "text": quote, "direct": true, "medium": "SPEECH", "speaker": "kosovo-fm-2025", "about": ["KE"],
                         "source": { "excerpt": "\"We will open our embassy in Nairobi this year.\"" } }]
    } })
}

#[test]
fn add_source_stores_all_of_it_or_nothing() {
    let (app, keys) = TestApp::spawn_with_keys();
    let failed = app.error_as(
        &keys.writer,
        ADD_SOURCE,
        article("https://example.org/nairobi", true),
    );
    assert_eq!(
        failed["extensions"]["field"], "input.statements[0].text",
        "{failed:#}"
    );
    let counts = "{ sources { totalCount } people(filter: { name: \"Kosovo Foreign Minister\" }) { totalCount } missions(filter: { city: \"Nairobi\" }) { totalCount } }";
    let before = app.data(counts);
    assert_eq!(before["sources"]["totalCount"], 4);
    assert!(
        app.data(r#"{ search(query: "Nairobi") { node { __typename } } }"#)["search"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let added = app.data_as(
        &keys.writer,
        ADD_SOURCE,
        article("https://example.org/nairobi", false),
    );
    assert_eq!(added["addSource"]["factIds"].as_array().unwrap().len(), 3);
    let after = app.data(counts);
    assert_eq!(after["sources"]["totalCount"], 5);
    assert_eq!(after["missions"]["totalCount"], 2);
    let hits =
        app.data(r#"{ search(query: "embassy Nairobi this year") { node { __typename } } }"#);
    assert!(hits["search"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["node"]["__typename"] == "Statement"));
    let statement = app.data(r#"{ statements(filter: { about: "KE", text: "Nairobi" }) { edges { node { text direct source { excerpt start end source { text } } } } } }"#);
    let s = &nodes(&statement["statements"])[0];
    let text: Vec<char> = s["source"]["source"]["text"]
        .as_str()
        .unwrap()
        .chars()
        .collect();
    let (start, end) = (
        s["source"]["start"].as_u64().unwrap() as usize,
        s["source"]["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(
        text[start..end].iter().collect::<String>(),
        s["source"]["excerpt"].as_str().unwrap()
    );

    let duplicate = app.error_as(
        &keys.writer,
        ADD_SOURCE,
        article("https://example.org/nairobi", false),
    );
    assert_eq!(duplicate["extensions"]["code"], "CONFLICT", "{duplicate:#}");
}

#[test]
fn concurrent_writers_to_one_entity_serialize_and_stale_ones_conflict() {
    let (app, keys) = TestApp::spawn_with_keys();
    let created = create_person(&app, &keys.writer, "Contested Person", "Ned Price");
    let id = created["data"]["createPerson"]["id"].clone();
    let update = "mutation($id: ID!, $input: PersonInput!) { updatePerson(id: $id, input: $input, expectedRevision: 1) { name } }";
    let results: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (app, keys, id) = (&app, &keys, id.clone());
                scope.spawn(move || {
                    app.graphql_as(
                        &keys.writer,
                        update,
                        json!({ "id": id, "input": { "name": format!("Writer {i}") } }),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("errors").is_none())
        .collect();
    assert_eq!(winners.len(), 1, "{results:#?}");
    assert!(results
        .iter()
        .filter(|r| r.get("errors").is_some())
        .all(|r| r["errors"][0]["extensions"]["code"] == "CONFLICT"));
    let now = app.data_with(
        "query($id: ID!) { person(id: $id) { name changeLog { revision } } }",
        json!({ "id": id }),
    );
    assert_eq!(
        now["person"]["name"],
        winners[0]["data"]["updatePerson"]["name"]
    );
    assert_eq!(now["person"]["changeLog"]["revision"], 2);
}

/// The role matrix as a table, over HTTP: each role deletes (plainly and with cascade) a node
/// of each kind; a refusal is FORBIDDEN before any other check, and leaves the node there.
/// Kinds go referrers first, and each row takes a node still there, so cascades take little.
#[test]
fn the_role_matrix_holds_for_every_kind_and_delete() {
    let (app, keys) = TestApp::spawn_with_keys();
    let connections = [
        ("statements", "Statement"),
        ("events", "Event"),
        ("missions", "Mission"),
        ("relations", "Relation"),
        ("agreements", "Agreement"),
        ("people", "Person"),
        ("organizations", "Organization"),
        ("sources", "Source"),
        ("countries", "Country"),
    ];
    let delete = "mutation($id: ID!, $cascade: Boolean!) { deleteNode(id: $id, cascade: $cascade) { deletedIds } }";
    let exists = |id: &Value| {
        app.data_with(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )["node"]
            .is_object()
    };
    for (connection, kind) in connections {
        for (role, key) in [("writer", &keys.writer), ("admin", &keys.admin)] {
            for cascade in [true, false] {
                let page = app.data(&format!(
                    "{{ {connection}(first: 1) {{ edges {{ node {{ id }} }} }} }}"
                ));
                let id = page[connection]["edges"][0]["node"]["id"].clone();
                assert!(id.is_string(), "no {kind} left to delete: {page:#}");
                let admins_only = kind == "Country" || cascade;
                let response = app.graphql_as(key, delete, json!({ "id": id, "cascade": cascade }));
                let code = response["errors"][0]["extensions"]["code"]
                    .as_str()
                    .unwrap_or("");
                let row = format!("{role} cascade={cascade} {kind}: {response:#}");
                if role == "writer" && admins_only {
                    assert_eq!(code, "FORBIDDEN", "{row}");
                    assert!(exists(&id), "{kind} was deleted by a refused {role}");
                } else {
                    assert!(code.is_empty() || code == "CONFLICT", "{row}");
                }
            }
        }
    }
    // Countries are the admin's to change too, not only to create.
    let update = r#"mutation { updateCountry(code: "AD", input: { code: "AD", alpha3: "AND", name: "Andorra!" }) { name } }"#;
    let refused = app.graphql_as(&keys.writer, update, json!({}));
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused:#}"
    );
}

/// The Authorization scheme is case-insensitive (RFC 9110): `BEARER` works as `Bearer` does.
#[test]
fn the_bearer_scheme_is_accepted_in_any_case() {
    let (app, keys) = TestApp::spawn_with_keys();
    let body = json!({ "query": r#"mutation { createSource(input: { title: "Scheme", text: "Some text." }) { title } }"# }).to_string();
    for scheme in ["BEARER", "bearer", "Bearer", "bEaReR"] {
        let reply = app.send(
            "POST",
            "/graphql",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &format!("{scheme} {}", keys.writer)),
            ],
            Some(&body.replace("Scheme", &format!("Scheme {scheme}"))),
        );
        let response = reply.json();
        assert!(response.get("errors").is_none(), "{scheme}: {response:#}");
    }
    let basic = app.send(
        "POST",
        "/graphql",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &format!("Basic {}", keys.writer)),
        ],
        Some(&body),
    );
    assert_eq!(
        basic.json()["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
}
