//! Lookups, aliases and diacritics, pagination, nesting and its cost, node ids, search.

use crate::helpers::*;
use diplograph::config::Settings;
use serde_json::{json, Value};
use std::collections::HashSet;

#[test]
fn codes_names_aliases_and_diacritics() {
    let app = TestApp::spawn();
    for code in ["XK", "xk", "XKX", "xkx"] {
        let data = app.data_with(
            "query($c: String!) { country(code: $c) { code alpha3 name } }",
            json!({ "c": code }),
        );
        assert_eq!(data["country"]["code"], "XK", "{code}");
        assert_eq!(data["country"]["alpha3"], "XKX");
    }
    assert_eq!(
        app.data(r#"{ country(code: "ZZ") { name } }"#)["country"],
        Value::Null
    );
    assert_eq!(
        app.data(r#"{ country(code: "") { name } }"#)["country"],
        Value::Null
    );

    let data = app.data(r#"{ country(code: "XK") { capital aliases demonyms region } }"#);
    assert_eq!(data["country"]["capital"], "Pristina");
    for alias in ["Prishtina", "Kosova"] {
        assert!(
            data["country"]["aliases"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == alias),
            "{alias}"
        );
    }
    for demonym in ["Kosovar", "Kosovan"] {
        assert!(
            data["country"]["demonyms"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == demonym),
            "{demonym}"
        );
    }
    for name in ["kosova", "KOSOVO", "Republic of Kosovo"] {
        let data = app.data_with(
            "query($n: String) { countries(filter: { name: $n }) { edges { node { code } } } }",
            json!({ "n": name }),
        );
        assert_eq!(nodes(&data["countries"])[0]["code"], "XK", "{name}");
    }
    let data =
        app.data(r#"{ countries(filter: { name: "holy see" }) { edges { node { code } } } }"#);
    assert_eq!(nodes(&data["countries"])[0]["code"], "VA");

    // One person across articles, found by any alias, with or without diacritics.
    for name in ["Vucic", "vučić", "Aleksandar Vucic"] {
        let data = app.data_with("query($n: String) { people(filter: { name: $n }) { totalCount edges { node { name } } } }", json!({ "n": name }));
        assert_eq!(data["people"]["totalCount"], 1, "{name}");
        assert_eq!(nodes(&data["people"])[0]["name"], "Aleksandar Vučić");
    }
    for name in ["Meliza Haradinaj", "Haradinaj-Stublla", "haradinaj stublla"] {
        let data = app.data_with(
            "query($n: String) { people(filter: { name: $n }) { totalCount edges { node { name posts { sources { source { title } } } } } } }",
            json!({ "n": name }),
        );
        assert_eq!(data["people"]["totalCount"], 1, "{name}");
        let person = &nodes(&data["people"])[0];
        assert_eq!(person["name"], "Meliza Haradinaj-Stublla");
        assert_eq!(
            person["posts"][0]["sources"].as_array().unwrap().len(),
            2,
            "cited by both articles"
        );
    }
    let data = app.data(
        r#"{ people(filter: { name: "Donald J. Trump" }) { edges { node { name aliases } } } }"#,
    );
    assert_eq!(nodes(&data["people"])[0]["name"], "Donald Trump");
    // Word starts only: "nazi" is not a name of Ashkenazi.
    let data = app.data(r#"{ people(filter: { name: "nazi" }) { totalCount } }"#);
    assert_eq!(data["people"]["totalCount"], 0);
    let data = app.data(r#"{ people(filter: { country: "XKX" }) { edges { node { name } } } }"#);
    assert_eq!(
        names(&Value::Array(nodes(&data["people"]))),
        ["Avdullah Hoti", "Meliza Haradinaj-Stublla", "Vjosa Osmani"]
    );
}

#[test]
fn gazetteer_covers_un_members_and_the_states_this_domain_needs() {
    let app = TestApp::spawn();
    let data = app.data("{ countries { totalCount } }");
    assert_eq!(data["countries"]["totalCount"], 197);
    let data = app.data(r#"{ countries(filter: { region: "europe" }, first: 100) { totalCount edges { node { code unMember } } } }"#);
    let europe = nodes(&data["countries"]);
    assert!(europe
        .iter()
        .any(|c| c["code"] == "XK" && c["unMember"] == false));
    assert!(europe.iter().all(|c| c["code"] != "KE"));
    for code in ["PS", "VA", "TW"] {
        let data = app.data_with(
            "query($c: String!) { country(code: $c) { unMember } }",
            json!({ "c": code }),
        );
        assert_eq!(data["country"]["unMember"], false, "{code}");
    }
}

#[test]
fn cursor_pagination_walks_every_row_once() {
    let app = TestApp::spawn();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let data = app.data_with(
            "query($after: String) { countries(first: 50, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { code } } } }",
            json!({ "after": after }),
        );
        let c = &data["countries"];
        assert_eq!(c["totalCount"], 197);
        assert_eq!(c["pageInfo"]["hasPreviousPage"], pages > 0);
        let edges = c["edges"].as_array().unwrap();
        assert_eq!(c["pageInfo"]["endCursor"], edges.last().unwrap()["cursor"]);
        seen.extend(
            edges
                .iter()
                .map(|e| e["node"]["code"].as_str().unwrap().to_string()),
        );
        pages += 1;
        if c["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = c["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
    assert_eq!(pages, 4);
    assert_eq!(seen.len(), 197);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 197);

    // Filtered connections page the same way.
    let first = app.data(r#"{ statements(filter: { about: "XK" }, first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }"#);
    let total = first["statements"]["totalCount"].as_u64().unwrap();
    assert!(total > 4);
    let rest = app.data_with(
        r#"query($a: String) { statements(filter: { about: "XK" }, first: 100, after: $a) { pageInfo { hasNextPage hasPreviousPage } edges { node { id } } } }"#,
        json!({ "a": first["statements"]["pageInfo"]["endCursor"] }),
    );
    assert_eq!(
        rest["statements"]["edges"].as_array().unwrap().len() as u64,
        total - 2
    );
    assert_eq!(rest["statements"]["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(rest["statements"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(
        app.data("{ countries(first: 0) { edges { cursor } pageInfo { hasNextPage } } }")
            ["countries"]["pageInfo"]["hasNextPage"],
        true
    );
}

fn round_trips(app: &TestApp, query: &str) -> u64 {
    let response = app.graphql(query, json!({}));
    assert!(response.get("errors").is_none(), "{response:#}");
    response["extensions"]["storeRoundTrips"]
        .as_u64()
        .expect("round trips reported")
}

#[test]
fn nested_queries_cost_round_trips_by_depth_not_rows() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(Settings {
        expose_query_stats: true,
        ..test_settings(dir.path())
    });
    // Both reach the same depth (Europe includes Kosovo); one has ~50 times the rows.
    let nested = |filter: &str| {
        format!(
            "{{ countries(filter: {filter}, first: 100) {{ edges {{ node {{ name
                relations(first: 5) {{ edges {{ node {{ subject {{ name }} object {{ name
                  agreements(first: 5) {{ edges {{ node {{ title provisions {{ text actor {{ name }} sources {{ excerpt }} }} }} }} }}
                  statements(first: 5) {{ edges {{ node {{ text speaker {{ ... on Person {{ name }} }} }} }} }} }} }} }} }}
            }} }} }} }}"
        )
    };
    let one = nested(r#"{ name: "Kosovo" }"#);
    let many = nested(r#"{ region: "Europe" }"#);
    let (one_trips, many_trips) = (round_trips(&app, &one), round_trips(&app, &many));
    assert!(
        many_trips <= one_trips,
        "Europe cost {many_trips} round trips, Kosovo alone {one_trips}"
    );
    assert!(
        one_trips >= 6,
        "the query should reach its full depth: {one_trips}"
    );
    let countries = |q: &str| app.data(q)["countries"]["edges"].as_array().unwrap().len();
    assert_eq!(countries(&one), 1);
    assert!(countries(&many) >= 40, "{}", countries(&many));
}

#[test]
fn every_kind_of_node_resolves_by_id_and_unknown_ids_are_null() {
    let app = TestApp::spawn();
    let data = app.data(
        r#"{ country(code: "XK") { id relations(first: 1) { edges { node { id } } } missionsAbroad { id } events(first: 1) { edges { node { id } } }
             agreements(first: 1) { edges { node { id provisions { id } } } } statements(first: 1) { edges { node { id } } } people { id } }
             organizations(first: 1) { edges { node { id } } } sources(first: 1) { edges { node { id } } } }"#,
    );
    let c = &data["country"];
    let ids = [
        ("Country", c["id"].clone()),
        ("Relation", c["relations"]["edges"][0]["node"]["id"].clone()),
        ("Mission", c["missionsAbroad"][0]["id"].clone()),
        ("Event", c["events"]["edges"][0]["node"]["id"].clone()),
        (
            "Agreement",
            c["agreements"]["edges"][0]["node"]["id"].clone(),
        ),
        (
            "Provision",
            c["agreements"]["edges"][0]["node"]["provisions"][0]["id"].clone(),
        ),
        (
            "Statement",
            c["statements"]["edges"][0]["node"]["id"].clone(),
        ),
        ("Person", c["people"][0]["id"].clone()),
        (
            "Organization",
            data["organizations"]["edges"][0]["node"]["id"].clone(),
        ),
        ("Source", data["sources"]["edges"][0]["node"]["id"].clone()),
    ];
    for (typename, id) in ids {
        let node = app.data_with(
            "query($id: ID!) { node(id: $id) { __typename id } }",
            json!({ "id": id }),
        );
        assert_eq!(node["node"]["__typename"], typename);
        assert_eq!(node["node"]["id"], id);
    }
    let person_id = c["people"][0]["id"].clone();
    assert!(app.data_with(
        "query($id: ID!) { person(id: $id) { name } }",
        json!({ "id": person_id })
    )["person"]["name"]
        .is_string());
    assert_eq!(
        app.data_with(
            "query($id: ID!) { person(id: $id) { name } }",
            json!({ "id": c["id"] })
        )["person"],
        Value::Null
    );
    for unknown in ["UGVyc29uOm5vYm9keQ", "garbage!", ""] {
        let data = app.data_with(
            "query($id: ID!) { node(id: $id) { id } person(id: $id) { id } }",
            json!({ "id": unknown }),
        );
        assert_eq!(data["node"], Value::Null, "{unknown}");
        assert_eq!(data["person"], Value::Null, "{unknown}");
    }
}

#[test]
fn statements_filter_by_speaker_about_text_and_dates() {
    let app = TestApp::spawn();
    let ashkenazi = app.data(r#"{ people(filter: { name: "Ashkenazi" }) { edges { node { id statements(first: 50) { totalCount } } } } }"#);
    let person = &nodes(&ashkenazi["people"])[0];
    let by_id = app.data_with(
        "query($s: ID) { statements(filter: { speaker: $s }) { totalCount } }",
        json!({ "s": person["id"] }),
    );
    assert_eq!(
        by_id["statements"]["totalCount"],
        person["statements"]["totalCount"]
    );
    assert_eq!(by_id["statements"]["totalCount"], 4);

    let data = app.data(r#"{ statements(filter: { text: "embassy Jerusalem", from: "2021-01-01" }) { edges { node { text date } } } }"#);
    let found = nodes(&data["statements"]);
    assert!(!found.is_empty());
    assert!(found.iter().all(|s| s["date"].as_str().unwrap() >= "2021"));

    let mission = app.data(r#"{ missions(filter: { sendingCountry: "XK", hostCountry: "IL" }) { edges { node { id } } } }"#);
    let about = app.data_with(
        "query($m: String) { statements(filter: { about: $m }) { totalCount edges { node { about { __typename } } } } }",
        json!({ "m": nodes(&mission["missions"])[0]["id"] }),
    );
    assert!(about["statements"]["totalCount"].as_u64().unwrap() >= 4);
    assert!(nodes(&about["statements"]).iter().all(|s| s["about"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["__typename"] == "Mission")));

    let september = app.data(
        r#"{ statements(filter: { from: "2020-09", to: "2020-09" }) { edges { node { date } } } }"#,
    );
    let dates: HashSet<String> = nodes(&september["statements"])
        .iter()
        .map(|s| s["date"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        dates,
        HashSet::from(["2020-09".to_string(), "2020-09-04".to_string()])
    );
}

#[test]
fn full_text_search_ranks_and_snippets() {
    let app = TestApp::spawn();
    let data = app.data(r#"{ search(query: "Hezbollah terrorist", first: 5) { score snippet node { __typename id } } }"#);
    let hits = data["search"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits[0]["snippet"].as_str().unwrap().contains("Hezbollah"));
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    let data = app.data(r#"{ search(query: "VUCIC") { node { __typename } snippet } }"#);
    assert!(data["search"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["snippet"].as_str().unwrap().contains("Vučić")));

    let data = app.data(r#"{ search(query: "Belgrade Pristina flights", first: 3) { node { __typename ... on Provision { text agreement { title } } } } }"#);
    assert_eq!(data["search"][0]["node"]["__typename"], "Provision");
    let kinds: HashSet<String> = app
        .data(r#"{ search(query: "embassy", first: 100) { node { __typename } } }"#)["search"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["node"]["__typename"].as_str().unwrap().to_string())
        .collect();
    for kind in ["Statement", "Provision", "Source"] {
        assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
    }
    assert_eq!(
        app.data(r#"{ search(query: "zzzyzzx") { score } }"#)["search"],
        json!([])
    );
}

/// GraphQL's serialized map ordering: fields come back in the order asked, whichever finished
/// first (a field answered from memory must not jump ahead of one that waited for the store).
#[test]
fn response_fields_keep_the_order_of_the_query() {
    let app = TestApp::spawn();
    let query = r#"{ country(code: "XK") { relations(first: 1) { edges { node { sources { excerpt } agreement { title signatories { person { name } } } counterpart(country: "XK") { name } kind } } } name } }"#;
    for _ in 0..2 {
        // Twice: run, then answered from the response cache.
        let body = app
            .post("application/json", &json!({ "query": query }).to_string())
            .body;
        let at = |key: &str| {
            body.find(&format!("\"{key}\""))
                .unwrap_or_else(|| panic!("{key} missing in {body}"))
        };
        assert!(at("relations") < at("sources"), "{body}");
        assert!(at("sources") < at("agreement"), "{body}");
        assert!(at("agreement") < at("counterpart"), "{body}");
        assert!(at("counterpart") < at("kind"), "{body}");
        assert!(body.rfind("\"name\"").unwrap() > at("kind"), "{body}");
    }
}

#[test]
fn an_error_deep_in_a_page_names_its_row_and_leaves_the_rest() {
    let app = TestApp::spawn();
    let response = app.graphql(
        r#"{ countries(filter: { name: "Kosovo" }, first: 1) { edges { cursor node {
              name __typename statements(first: -1) { totalCount } code } } } }"#,
        json!({}),
    );
    let errors = response["errors"].as_array().expect("an error");
    assert_eq!(errors.len(), 1, "{response:#}");
    assert_eq!(
        errors[0]["path"],
        json!(["countries", "edges", 0, "node", "statements"]),
        "{response:#}"
    );
    assert_eq!(
        errors[0]["extensions"]["code"], "BAD_USER_INPUT",
        "{response:#}"
    );
    let node = &response["data"]["countries"]["edges"][0]["node"];
    assert_eq!(node["name"], "Kosovo");
    assert_eq!(node["__typename"], "Country");
    assert_eq!(node["code"], "XK");
    assert_eq!(node["statements"], Value::Null);
}
