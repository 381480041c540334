//! Everything the four seed articles state is answerable, with its source excerpt.

use crate::helpers::*;
use serde_json::{json, Value};

const CITE: &str = "excerpt start end source { title }";

fn relation_between(app: &TestApp, a: &str, b: &str) -> Vec<Value> {
    let data = app.data_with(
        &format!(
            "query($a: String!, $b: String!) {{ relations(filter: {{ country: $a, counterpart: $b }}) {{ totalCount edges {{ node {{
                kind status since subject {{ code }} object {{ code }}
                agreement {{ title signedOn place signatories {{ person {{ name }} country {{ code }} }} brokers {{ code }} }}
                event {{ kind date place participants {{ name }} }}
                history {{ status date sources {{ {CITE} }} }}
                sources {{ {CITE} }}
            }} }} }} }}"
        ),
        json!({ "a": a, "b": b }),
    );
    nodes(&data["relations"])
}

/// 000 (Reuters, 2021-02-01): Israel and Kosovo establish diplomatic relations over Zoom.
#[test]
fn reuters_israel_kosovo_relations_established_with_agreement_and_ceremony() {
    let app = TestApp::spawn();
    let relations = relation_between(&app, "XK", "ISR");
    assert_eq!(relations.len(), 1, "{relations:#?}");
    let r = &relations[0];
    assert_eq!(r["kind"], "DIPLOMATIC_RELATIONS");
    assert_eq!(r["status"], "ESTABLISHED");
    assert_eq!(r["since"], "2021-02-01");
    assert!(cites(
        &r["sources"],
        "Israel and Kosovo established diplomatic relations Monday"
    ));
    let history: Vec<&str> = r["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["AGREED", "ESTABLISHED"]);
    assert_eq!(r["history"][0]["date"], "2020-09");

    let agreement = &r["agreement"];
    assert_eq!(agreement["signedOn"], "2021-02-01");
    assert_eq!(
        names(
            &agreement["signatories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["person"].clone())
                .collect::<Value>()
        ),
        ["Gabi Ashkenazi", "Meliza Haradinaj-Stublla"]
    );
    assert_eq!(agreement["brokers"][0]["code"], "US");
    let event = &r["event"];
    assert_eq!(event["kind"], "SIGNING");
    assert_eq!(event["date"], "2021-02-01");
    assert!(event["place"].as_str().unwrap().contains("Zoom"));

    // Embassies in Jerusalem: who has one, who vowed, who plans.
    let data = app.data(
        r#"{ missions(filter: { hostCountry: "IL", city: "jerusalem" }, first: 50) { edges { node {
            status opened expectedOpening sendingCountry { code } sources { excerpt } } } } }"#,
    );
    let by_sender = |code: &str| {
        nodes(&data["missions"])
            .into_iter()
            .find(|m| m["sendingCountry"]["code"] == code)
            .unwrap_or_else(|| panic!("no mission from {code}"))
    };
    assert_eq!(by_sender("US")["status"], "OPEN");
    assert_eq!(by_sender("GT")["status"], "OPEN");
    assert_eq!(by_sender("MW")["status"], "PROMISED");
    assert_eq!(by_sender("HN")["status"], "PROMISED");
    let kosovo = by_sender("XK");
    assert_eq!(kosovo["status"], "PLANNED");
    assert_eq!(kosovo["expectedOpening"], "2021-03");
    assert!(cites(
        &kosovo["sources"],
        "hope will open by the end of March"
    ));

    // Ned Price's tweet, verbatim.
    let data = app.data(
        r#"{ statements(filter: { speakerName: "Ned Price" }) { edges { node {
            text direct medium date speaker { ... on Person { name posts { title organization { name } } } }
            source { excerpt source { publisher published } } } } } }"#,
    );
    let tweet = &nodes(&data["statements"])[0];
    assert_eq!(tweet["direct"], true);
    assert_eq!(tweet["medium"], "TWEET");
    assert_eq!(tweet["date"], "2021-02-01");
    assert_eq!(tweet["text"], "Deeper international ties further contribute to peace and stability in the Balkans and the Middle East.");
    assert_eq!(
        tweet["speaker"]["posts"][0]["organization"]["name"],
        "United States Department of State"
    );
    assert_eq!(tweet["source"]["source"]["publisher"], "Reuters");

    // Kosovo declared independence from Serbia in 2008.
    let data = app.data(r#"{ events(filter: { country: "RS", kind: DECLARATION }) { edges { node { title date sources { excerpt } } } } }"#);
    let declaration = &nodes(&data["events"])[0];
    assert_eq!(declaration["date"], "2008");
    assert!(declaration["title"]
        .as_str()
        .unwrap()
        .contains("independence"));
}

/// 001: the first phone call between the foreign ministers; tweets, the EU's concern.
#[test]
fn first_call_between_foreign_ministers_with_tweets_and_eu_concern() {
    let app = TestApp::spawn();
    let data = app.data(
        r#"{ events(filter: { country: "XK", kind: PHONE_CALL }) { totalCount edges { node {
            title participants { name } countries { code }
            statements { text direct medium speaker { __typename ... on Person { name } ... on Organization { name } } }
            sources { excerpt source { title } } } } } }"#,
    );
    assert_eq!(data["events"]["totalCount"], 1);
    let call = &nodes(&data["events"])[0];
    assert_eq!(
        names(&call["participants"]),
        ["Gabi Ashkenazi", "Meliza Haradinaj-Stublla"]
    );
    assert!(cites(
        &call["sources"],
        "held a phone call for the first time"
    ));
    let statements = call["statements"].as_array().unwrap();
    let tweets: Vec<&Value> = statements
        .iter()
        .filter(|s| s["medium"] == "TWEET")
        .collect();
    assert_eq!(tweets.len(), 2);
    assert!(tweets
        .iter()
        .all(|t| t["direct"] == true && t["speaker"]["name"] == "Meliza Haradinaj-Stublla"));
    assert!(statements
        .iter()
        .any(|s| s["speaker"]["__typename"] == "Organization"
            && s["text"]
                .as_str()
                .unwrap()
                .contains("send a delegation to Israel")));
    assert!(statements.iter().any(|s| s["text"]
        .as_str()
        .unwrap()
        .contains("IHRA definition of antisemitism")));

    let data = app.data(
        r#"{ statements(filter: { speakerName: "stano" }) { edges { node { text direct date
            speaker { ... on Person { name posts { title organization { name kind } } } } } } } }"#,
    );
    let concern = &nodes(&data["statements"])[0];
    assert_eq!(concern["date"], "2020-09");
    assert!(concern["text"]
        .as_str()
        .unwrap()
        .starts_with("any steps that could call into question"));
    assert_eq!(
        concern["speaker"]["posts"][0]["organization"]["kind"],
        "INTERGOVERNMENTAL"
    );

    let data = app.data(r#"{ organizations(filter: { name: "hezbollah" }) { edges { node { kind country { code } sources { excerpt } } } } }"#);
    let hezbollah = &nodes(&data["organizations"])[0];
    assert_eq!(hezbollah["kind"], "NON_STATE_ARMED_GROUP");
    assert!(cites(
        &hezbollah["sources"],
        "Kosovo's recognition of Hezbollah as a terrorist organization"
    ));
}

/// 002 (Kazmir, 2020-09-09): the Serbia–Kosovo economic normalization agreement.
#[test]
fn white_house_economic_normalization_agreement() {
    let app = TestApp::spawn();
    let data = app.data(
        r#"{ agreements(filter: { party: "srb", signedFrom: "2020-09", signedTo: "2020-09-30" }) { totalCount edges { node {
            title signedOn place parties { code } brokers { code }
            signatories { person { name aliases } country { code } }
            provisions { text actor { code } sources { excerpt } }
            events { kind date participants { name } }
            statements { edges { node { text direct date speaker { ... on Person { name } } } } }
            sources { excerpt source { author published } } } } } }"#,
    );
    assert_eq!(data["agreements"]["totalCount"], 1);
    let a = &nodes(&data["agreements"])[0];
    assert_eq!(a["signedOn"], "2020-09-04");
    assert!(a["place"].as_str().unwrap().contains("Oval Office"));
    assert_eq!(a["brokers"][0]["code"], "US");
    let signatories: Vec<(String, String)> = a["signatories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["person"]["name"].as_str().unwrap().to_string(),
                s["country"]["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        signatories,
        [
            ("Aleksandar Vučić".to_string(), "RS".to_string()),
            ("Avdullah Hoti".into(), "XK".into())
        ]
    );
    let provisions = a["provisions"].as_array().unwrap();
    let serbia_moves = provisions
        .iter()
        .find(|p| {
            p["text"]
                .as_str()
                .unwrap()
                .contains("Serbia moves its embassy")
        })
        .unwrap();
    assert_eq!(serbia_moves["actor"]["code"], "RS");
    let jerusalem = provisions
        .iter()
        .find(|p| p["text"].as_str().unwrap().contains("recognizes Jerusalem"))
        .unwrap();
    assert_eq!(jerusalem["actor"]["code"], "XK");
    assert!(cites(
        &jerusalem["sources"],
        "Kosovo will recognize Jerusalem as the capital of Israel"
    ));
    assert!(provisions.iter().any(|p| p["text"]
        .as_str()
        .unwrap()
        .contains("Belgrade and Pristina")));
    assert_eq!(a["events"][0]["date"], "2020-09-04");
    let trump: Vec<Value> = nodes(&a["statements"])
        .into_iter()
        .filter(|s| s["speaker"]["name"] == "Donald Trump")
        .collect();
    assert_eq!(trump.len(), 2);
    assert!(trump
        .iter()
        .all(|s| s["direct"] == true && s["date"] == "2020-09-04"));
    assert!(a["sources"]
        .as_array()
        .unwrap()
        .iter()
        .any(
            |c| c["source"]["author"] == "Munr Kazmir" && c["source"]["published"] == "2020-09-09"
        ));

    // The same agreement is cited by all three articles that mention it.
    let published: std::collections::BTreeSet<&str> = a["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["source"]["published"].as_str().unwrap())
        .collect();
    assert_eq!(
        published.into_iter().collect::<Vec<_>>(),
        ["2020", "2020-09-09", "2021-02-01"]
    );
}

/// 003: Kenya recognizes Kosovo; both will open missions in each other's capitals.
#[test]
fn kenya_recognizes_kosovo_and_missions_are_promised() {
    let app = TestApp::spawn();
    let relations = relation_between(&app, "KEN", "xk");
    let recognition = relations
        .iter()
        .find(|r| r["kind"] == "RECOGNITION")
        .expect("a recognition");
    assert_eq!(recognition["subject"]["code"], "KE");
    assert_eq!(recognition["object"]["code"], "XK");
    assert_eq!(recognition["status"], "ESTABLISHED");
    assert!(cites(
        &recognition["sources"],
        "Kenya’s recognition of Kosovo"
    ));

    let data = app.data(
        r#"{ country(code: "KE") { missionsAbroad { city status hostCountry { code } } missionsHosted { city status kind sendingCountry { code } sources { excerpt } } } }"#,
    );
    let hosted = &data["country"]["missionsHosted"][0];
    assert_eq!(hosted["sendingCountry"]["code"], "XK");
    assert_eq!(hosted["city"], "Nairobi");
    assert_eq!(hosted["status"], "PROMISED");
    assert_eq!(data["country"]["missionsAbroad"][0]["city"], "Pristina");

    let data = app.data(
        r#"{ statements(filter: { about: "KE", speakerName: "Osmani" }) { edges { node { text direct speaker { ... on Person { name posts { title country { code } } } } } } } }"#,
    );
    let quotes: Vec<Value> = nodes(&data["statements"])
        .into_iter()
        .filter(|s| s["direct"] == true)
        .collect();
    assert_eq!(quotes[0]["text"], "Kenya can count on Kosovo as a true ally and partner. A new chapter of partnership begins!");
    assert_eq!(quotes[0]["speaker"]["posts"][0]["title"], "President");
    assert_eq!(quotes[0]["speaker"]["posts"][0]["country"]["code"], "XK");
}

/// Every citation the API returns is exact: excerpt == source.text[start..end] in chars.
#[test]
fn every_citation_is_exact() {
    let app = TestApp::spawn();
    let cite = "excerpt start end source { text }";
    let query = format!(
        "{{
          relations(first: 100) {{ edges {{ node {{ sources {{ {cite} }} history {{ sources {{ {cite} }} }} }} }} }}
          missions(first: 100) {{ edges {{ node {{ sources {{ {cite} }} }} }} }}
          agreements(first: 100) {{ edges {{ node {{ sources {{ {cite} }} provisions {{ sources {{ {cite} }} }} }} }} }}
          events(first: 100) {{ edges {{ node {{ sources {{ {cite} }} }} }} }}
          statements(first: 100) {{ edges {{ node {{ text direct source {{ {cite} }} }} }} }}
          people(first: 100) {{ edges {{ node {{ posts {{ sources {{ {cite} }} }} }} }} }}
        }}"
    );
    let data = app.data(&query);
    let mut checked = 0;
    fn walk(v: &Value, checked: &mut usize) {
        match v {
            Value::Object(map) if map.contains_key("excerpt") => {
                let text: Vec<char> = map["source"]["text"].as_str().unwrap().chars().collect();
                let (start, end) = (
                    map["start"].as_u64().unwrap() as usize,
                    map["end"].as_u64().unwrap() as usize,
                );
                assert!(start < end && end <= text.len());
                let slice: String = text[start..end].iter().collect();
                assert_eq!(slice, map["excerpt"].as_str().unwrap());
                *checked += 1;
            }
            Value::Object(map) => map.values().for_each(|v| walk(v, checked)),
            Value::Array(items) => items.iter().for_each(|v| walk(v, checked)),
            _ => {}
        }
    }
    walk(&data, &mut checked);
    assert!(checked > 60, "only {checked} citations checked");
    // Direct quotes are verbatim in their excerpt.
    for s in nodes(&data["statements"]) {
        if s["direct"] == true {
            assert!(
                s["source"]["excerpt"]
                    .as_str()
                    .unwrap()
                    .contains(s["text"].as_str().unwrap()),
                "{s:#}"
            );
        }
    }
}
