//! The SDL in schema/ is the one the code serves, and it keeps every name and shape of the
//! public contract.

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{FieldDefinition, TypeKind, TypeSystemDefinition};
use async_graphql::parser::Positioned;
use async_graphql::Name;
use std::collections::BTreeMap;

const PRINTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/diplograph.graphql");
const CONTRACT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/contract.graphql");
const SHARED_CONTRACT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/contract.graphql");

#[test]
fn printed_sdl_matches_the_code() {
    let printed = std::fs::read_to_string(PRINTED).unwrap();
    assert!(
        printed == diplograph::graphql::sdl(),
        "schema/diplograph.graphql is stale: run `cargo run -- schema > schema/diplograph.graphql`"
    );
}

/// Type name → (kind, members): fields with their argument lists and types, enum values,
/// union members, implemented interfaces.
fn shape(sdl: &str) -> BTreeMap<String, (String, BTreeMap<String, String>)> {
    let doc = parse_schema(sdl).expect("valid SDL");
    let mut out = BTreeMap::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = t.node;
        let mut members = BTreeMap::new();
        let kind = match &t.kind {
            TypeKind::Scalar => "scalar",
            TypeKind::Object(o) => {
                fields(&mut members, &o.implements, &o.fields);
                "type"
            }
            TypeKind::Interface(i) => {
                fields(&mut members, &i.implements, &i.fields);
                "interface"
            }
            TypeKind::Union(u) => {
                for m in &u.members {
                    members.insert(m.node.to_string(), String::new());
                }
                "union"
            }
            TypeKind::Enum(e) => {
                for v in &e.values {
                    members.insert(v.node.value.node.to_string(), String::new());
                }
                "enum"
            }
            TypeKind::InputObject(i) => {
                for f in &i.fields {
                    members.insert(f.node.name.node.to_string(), f.node.ty.node.to_string());
                }
                "input"
            }
        };
        out.insert(t.name.node.to_string(), (kind.to_string(), members));
    }
    out
}

fn fields(
    members: &mut BTreeMap<String, String>,
    implements: &[Positioned<Name>],
    fields: &[Positioned<FieldDefinition>],
) {
    for i in implements {
        members.insert(format!("implements {}", i.node), String::new());
    }
    for f in fields {
        let f = &f.node;
        members.insert(f.name.node.to_string(), f.ty.node.to_string());
        for a in &f.arguments {
            members.insert(
                format!("{}({})", f.name.node, a.node.name.node),
                a.node.ty.node.to_string(),
            );
        }
    }
}

#[test]
fn the_served_schema_keeps_every_name_and_shape_of_the_contract() {
    let contract = std::fs::read_to_string(CONTRACT).unwrap();
    if let Ok(shared) = std::fs::read_to_string(SHARED_CONTRACT) {
        assert_eq!(
            contract, shared,
            "schema/contract.graphql is an outdated copy of ../shared/contract.graphql"
        );
    }
    let served = shape(&diplograph::graphql::sdl());
    let mut problems = Vec::new();
    for (name, (kind, members)) in shape(&contract) {
        let Some((served_kind, served_members)) = served.get(&name) else {
            problems.push(format!("{kind} {name} is missing"));
            continue;
        };
        if *served_kind != kind {
            problems.push(format!(
                "{name} is a {served_kind}, the contract says {kind}"
            ));
        }
        for (member, ty) in members {
            match served_members.get(&member) {
                None => problems.push(format!("{name}.{member} is missing")),
                Some(served_ty) if *served_ty != ty => problems.push(format!(
                    "{name}.{member} is {served_ty}, the contract says {ty}"
                )),
                Some(_) => {}
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the schema breaks the contract:\n{}",
        problems.join("\n")
    );
}
