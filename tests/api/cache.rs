//! The response cache, seen from outside: repeated reads are answered from it, and a read after
//! an acknowledged write never sees what was there before the write.

use crate::helpers::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const REUTERS: &str = "reuters-israel-kosovo-relations";

/// (hits, misses) so far, from /metrics.
fn cache_counts(app: &TestApp) -> (u64, u64) {
    let text = app.get("/metrics").body;
    let count = |result: &str| {
        let prefix = format!("diplograph_response_cache_total{{result=\"{result}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (count("hit"), count("miss"))
}

fn create_person(app: &TestApp, key: &str, name: &str) -> Value {
    app.data_as(
        key,
        "mutation($input: PersonInput!) { createPerson(input: $input) { id } }",
        json!({ "input": { "name": name } }),
    )["createPerson"]["id"]
        .clone()
}

#[test]
fn repeated_reads_hit_and_writes_to_what_they_read_are_seen_at_once() {
    let (app, keys) = TestApp::spawn_with_keys();
    let about_kosovo = r#"{ country(code: "XK") { name statements(first: 1) { totalCount } } }"#;
    let first = app.data(about_kosovo);
    // The same query laid out differently is the same entry.
    let again = app.data(
        "# again\n{\n  country(code: \"XK\") {\n    name,\n    statements(first: 1) { totalCount }\n  }\n}",
    );
    assert_eq!(first, again);
    let (hits, misses) = cache_counts(&app);
    assert_eq!((hits, misses), (1, 1), "one run, one answer from the cache");

    // A statement about Kosovo: the count read through Country changes at once.
    let before = first["country"]["statements"]["totalCount"]
        .as_u64()
        .unwrap();
    app.data_as(
        &keys.writer,
        "mutation($input: StatementInput!) { createStatement(input: $input) { id } }",
        json!({ "input": { "text": "Deeper international ties further contribute to peace", "direct": true,
            "medium": "TWEET", "about": ["XK"],
            "source": { "source": REUTERS, "excerpt": "Deeper international ties further contribute to peace" } } }),
    );
    let after = app.data(about_kosovo);
    assert_eq!(after["country"]["statements"]["totalCount"], before + 1);

    // A write of another kind leaves an answer that did not read it in the cache.
    let name_only = r#"{ country(code: "KE") { name } }"#;
    app.data(name_only);
    let (hits, misses) = cache_counts(&app);
    create_person(&app, &keys.writer, "Cache Bystander");
    assert_eq!(app.data(name_only)["country"]["name"], "Kenya");
    assert_eq!(cache_counts(&app), (hits + 1, misses));

    // Variables are part of the key.
    let by_code = "query($c: String!) { country(code: $c) { name } }";
    assert_eq!(
        app.data_with(by_code, json!({ "c": "RS" }))["country"]["name"],
        "Serbia"
    );
    assert_eq!(
        app.data_with(by_code, json!({ "c": "IL" }))["country"]["name"],
        "Israel"
    );
    assert_eq!(
        app.data_with(by_code, json!({ "c": "RS" }))["country"]["name"],
        "Serbia"
    );

    // Mutations are never cached: the same one twice makes two people.
    create_person(&app, &keys.writer, "Twice");
    create_person(&app, &keys.writer, "Twice");
    let found = app.data(r#"{ people(filter: { name: "twice" }) { totalCount } }"#);
    assert_eq!(found["people"]["totalCount"], 2);
}

#[test]
fn errors_are_not_cached_and_a_deleted_node_reads_as_null() {
    let (app, keys) = TestApp::spawn_with_keys();
    let bad = r#"{ agreements(filter: { party: "ZZ" }) { totalCount } }"#;
    assert_eq!(app.error_code(bad), "BAD_USER_INPUT");
    assert_eq!(app.error_code(bad), "BAD_USER_INPUT");
    assert_eq!(
        cache_counts(&app),
        (0, 2),
        "an error is run again, not kept"
    );

    let id = create_person(&app, &keys.writer, "Short Lived");
    let query = format!(
        r#"{{ node(id: "{}") {{ ... on Person {{ name }} }} }}"#,
        id.as_str().unwrap()
    );
    assert_eq!(app.data(&query)["node"]["name"], "Short Lived");
    assert_eq!(app.data(&query)["node"]["name"], "Short Lived");
    app.data_as(
        &keys.writer,
        "mutation($id: ID!) { deleteNode(id: $id) { deletedIds } }",
        json!({ "id": id }),
    );
    assert_eq!(app.data(&query)["node"], Value::Null);
}

/// Readers race a writer; each read must show the last write acknowledged before it was sent,
/// or a later one, through the cache and through the name index alike.
#[test]
fn concurrent_readers_never_see_a_value_older_than_the_last_acknowledged_write() {
    let (app, keys) = TestApp::spawn_with_keys();
    let id = create_person(&app, &keys.writer, "Probe 0");
    let app = Arc::new(app);
    let acknowledged = Arc::new(AtomicU64::new(0));
    const WRITES: u64 = 30;
    let by_id = format!(r#"{{ person(id: "{}") {{ name }} }}"#, id.as_str().unwrap());
    let by_name = r#"{ people(filter: { name: "probe" }) { edges { node { name } } } }"#;
    let readers: Vec<_> = (0..3)
        .map(|reader| {
            let (app, acknowledged, by_id) = (app.clone(), acknowledged.clone(), by_id.clone());
            std::thread::spawn(move || {
                let mut reads = 0;
                loop {
                    let floor = acknowledged.load(Ordering::SeqCst);
                    let data = if reader % 2 == 0 {
                        app.data(&by_id)["person"]["name"].clone()
                    } else {
                        nodes(&app.data(by_name)["people"])[0]["name"].clone()
                    };
                    let seen: u64 = data.as_str().unwrap()["Probe ".len()..].parse().unwrap();
                    assert!(
                        seen >= floor,
                        "read {seen} after write {floor} was acknowledged"
                    );
                    reads += 1;
                    if floor == WRITES {
                        return reads;
                    }
                }
            })
        })
        .collect();
    let update = "mutation($id: ID!, $input: PersonInput!) { updatePerson(id: $id, input: $input) { name } }";
    for i in 1..=WRITES {
        app.data_as(
            &keys.writer,
            update,
            json!({ "id": id, "input": { "name": format!("Probe {i}") } }),
        );
        acknowledged.store(i, Ordering::SeqCst);
    }
    for reader in readers {
        assert!(reader.join().expect("a reader failed") > 0);
    }
    let (hits, _) = cache_counts(&app);
    assert!(
        hits > 0,
        "the readers were served from the cache between writes"
    );
}

/// Staleness comes from what the loaders read, not from declarations in resolvers: for every
/// kind of the registry, a cached list and a cached node lookup of that kind are answered again
/// after a write (here a cascading delete, which every kind has) and no longer show the fact.
#[test]
fn a_write_of_any_kind_refreshes_every_cached_response_that_read_that_kind() {
    let (app, keys) = TestApp::spawn_with_keys();
    // Referrers first, so that a cascade leaves the kinds still to come untouched.
    for kind in diplograph::domain::STORED.iter().rev() {
        let list = format!(
            "{{ {}(first: 100) {{ totalCount edges {{ node {{ id }} }} }} }}",
            kind.plural()
        );
        let before = app.data(&list)[kind.plural()].clone();
        let id = nodes(&before)[0]["id"].clone();
        assert!(id.is_string(), "no {kind} to delete: {before:#}");
        let lookup = json!({ "id": id });
        const NODE: &str = "query($id: ID!) { node(id: $id) { id } }";
        assert_eq!(app.data_with(NODE, lookup.clone())["node"]["id"], id);
        // Both answered again from the cache before the write.
        let (hits, _) = cache_counts(&app);
        assert_eq!(app.data(&list)[kind.plural()], before);
        assert_eq!(app.data_with(NODE, lookup.clone())["node"]["id"], id);
        assert_eq!(cache_counts(&app).0, hits + 2, "{kind}: not cached");

        app.data_as(
            &keys.admin,
            "mutation($id: ID!) { deleteNode(id: $id, cascade: true) { deletedIds } }",
            lookup.clone(),
        );
        let after = app.data(&list)[kind.plural()].clone();
        assert!(
            !nodes(&after).iter().any(|n| n["id"] == id),
            "{kind}: a cached list still shows the deleted fact"
        );
        assert!(
            after["totalCount"].as_i64() < before["totalCount"].as_i64(),
            "{kind}: {after:#}"
        );
        assert_eq!(
            app.data_with(NODE, lookup)["node"],
            Value::Null,
            "{kind}: a cached lookup still finds the deleted fact"
        );
    }
}

/// A parsed document remembers the requests it passed validation with, and runs them again
/// without the full validation; other variables on the same document are validated again.
#[test]
fn a_document_validated_once_is_validated_again_for_other_variables() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.cache.response_bytes = 0;
    let app = TestApp::spawn_with(settings);
    let query = "query Q($n: Int) { countries(first: $n) { edges { node { code } } } }";
    let first = app.data_with(query, json!({ "n": 2 }));
    assert_eq!(nodes(&first["countries"]).len(), 2);
    for _ in 0..3 {
        assert_eq!(app.data_with(query, json!({ "n": 2 })), first);
    }
    let refused = app.graphql(query, json!({ "n": "two" }));
    assert!(refused.get("data").is_none(), "{refused:#}");
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{refused:#}"
    );
    // The complexity limit depends on the variables too.
    let nested = "query Q($n: Int) { countries(first: $n) { edges { node { statements(first: 100) { edges { node { text } } } } } } }";
    app.data_with(nested, json!({ "n": 1 }));
    app.data_with(nested, json!({ "n": 1 }));
    let costly = app.graphql(nested, json!({ "n": 1000 }));
    assert!(costly.get("data").is_none(), "{costly:#}");
    assert!(
        costly["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("complex"),
        "{costly:#}"
    );
    assert_eq!(app.data_with(query, json!({ "n": 2 })), first);
}

/// Name lookups are kept until a write touches a name they could match: a new name whose word a
/// lookup's first word begins, and an old name renamed away.
#[test]
fn name_lookups_follow_every_write_of_a_name_they_could_match() {
    let (app, keys) = TestApp::spawn_with_keys();
    let named = |name: &str| {
        let data = app.data_with(
            "query($n: String!) { people(filter: { name: $n }) { edges { node { name } } } }",
            json!({ "n": name }),
        );
        let mut found: Vec<String> = nodes(&data["people"])
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        found.sort();
        found
    };
    assert!(named("Zed").is_empty());
    assert!(named("Yan").is_empty());
    let id = create_person(&app, &keys.writer, "Zed Alpha");
    assert_eq!(named("Zed"), ["Zed Alpha"]);
    assert_eq!(named("zed alpha"), ["Zed Alpha"]);
    // A write of an unrelated name keeps what was found, and is found itself.
    create_person(&app, &keys.writer, "Quentin Other");
    assert_eq!(named("Zed"), ["Zed Alpha"]);
    assert_eq!(named("Quentin"), ["Quentin Other"]);
    // A longer word that the lookup's first word begins.
    create_person(&app, &keys.writer, "Zeddie Beta");
    assert_eq!(named("Zed"), ["Zed Alpha", "Zeddie Beta"]);
    // Renamed away: the old name no longer finds it, the new one does.
    app.data_as(
        &keys.writer,
        "mutation($id: ID!) { updatePerson(id: $id, input: { name: \"Yan Alpha\" }) { id } }",
        json!({ "id": id }),
    );
    assert_eq!(named("Zed"), ["Zeddie Beta"]);
    assert_eq!(named("Yan"), ["Yan Alpha"]);
    assert_eq!(named("alpha"), ["Yan Alpha"]);
}
