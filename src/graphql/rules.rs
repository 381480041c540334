//! Rules of a document that async-graphql 7 leaves gaps in, checked before it runs.
//!
//! - The spec's directive rules, over every place of a document: Directives Are Defined,
//!   Directives Are In Valid Locations, Directives Are Unique Per Location, and their
//!   arguments. async-graphql has these rules, but its validation never enters a `__typename`
//!   field, so `{ __typename @nope }` and ten thousand `@include`s on one `__typename` passed.
//! - Introspection, when turned off: async-graphql then answers `__schema: null`, where a
//!   client should learn that it is not allowed.

use async_graphql::parser::types::{
    Directive, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Positioned, ServerError, Value};
use std::collections::HashSet;

/// Errors past this many are summed up in one more: a hostile document could otherwise make
/// the error list as large as itself.
const MAX_REPORTED: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Location {
    Query,
    Mutation,
    Subscription,
    Field,
    FragmentDefinition,
    FragmentSpread,
    InlineFragment,
    VariableDefinition,
}

impl Location {
    fn as_str(self) -> &'static str {
        match self {
            Location::Query => "QUERY",
            Location::Mutation => "MUTATION",
            Location::Subscription => "SUBSCRIPTION",
            Location::Field => "FIELD",
            Location::FragmentDefinition => "FRAGMENT_DEFINITION",
            Location::FragmentSpread => "FRAGMENT_SPREAD",
            Location::InlineFragment => "INLINE_FRAGMENT",
            Location::VariableDefinition => "VARIABLE_DEFINITION",
        }
    }
}

/// Where each executable directive of the schema may stand. The schema defines only the
/// spec's two (a test holds the SDL to that).
fn locations(directive: &str) -> Option<&'static [Location]> {
    match directive {
        "skip" | "include" => Some(&[
            Location::Field,
            Location::FragmentSpread,
            Location::InlineFragment,
        ]),
        _ => None,
    }
}

#[derive(Default)]
struct Checker {
    errors: Vec<ServerError>,
    found: usize,
}

impl Checker {
    fn report(&mut self, directive: &Positioned<Directive>, message: String) {
        self.found += 1;
        if self.errors.len() < MAX_REPORTED {
            self.errors
                .push(ServerError::new(message, Some(directive.pos)));
        }
    }

    fn directives(&mut self, directives: &[Positioned<Directive>], location: Location) {
        let mut seen = HashSet::new();
        for directive in directives {
            let name = directive.node.name.node.as_str();
            let Some(allowed) = locations(name) else {
                self.report(directive, format!("Unknown directive \"@{name}\"."));
                continue;
            };
            if !allowed.contains(&location) {
                self.report(
                    directive,
                    format!(
                        "Directive \"@{name}\" may not be used on {}.",
                        location.as_str()
                    ),
                );
            }
            if !seen.insert(name) {
                self.report(
                    directive,
                    format!("The directive \"@{name}\" can only be used once at this location."),
                );
            }
            self.arguments(directive, name);
        }
    }

    /// `@skip` and `@include` take one argument, `if: Boolean!`.
    fn arguments(&mut self, directive: &Positioned<Directive>, name: &str) {
        let mut has_if = false;
        for (argument, value) in &directive.node.arguments {
            if argument.node.as_str() != "if" {
                self.report(
                    directive,
                    format!(
                        "Unknown argument \"{}\" on directive \"@{name}\".",
                        argument.node
                    ),
                );
                continue;
            }
            if has_if {
                self.report(
                    directive,
                    format!("There can be only one argument named \"if\" on \"@{name}\"."),
                );
            }
            has_if = true;
            // A variable stands for a Boolean! here (variable validation checks its type).
            let boolean = matches!(
                value
                    .node
                    .clone()
                    .into_const_with(|_| Ok::<_, ()>(Value::Boolean(true))),
                Ok(Value::Boolean(_))
            );
            if !boolean {
                self.report(
                    directive,
                    format!("Argument \"if\" of \"@{name}\" must be a Boolean!."),
                );
            }
        }
        if !has_if {
            self.report(
                directive,
                format!("Directive \"@{name}\" argument \"if\" of type \"Boolean!\" is required."),
            );
        }
    }

    fn selection_set(&mut self, set: &Positioned<SelectionSet>) {
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) => {
                    self.directives(&field.node.directives, Location::Field);
                    self.selection_set(&field.node.selection_set);
                }
                Selection::FragmentSpread(spread) => {
                    self.directives(&spread.node.directives, Location::FragmentSpread);
                }
                Selection::InlineFragment(fragment) => {
                    self.directives(&fragment.node.directives, Location::InlineFragment);
                    self.selection_set(&fragment.node.selection_set);
                }
            }
        }
    }
}

/// Whether an operation of the document asks for `__schema` or `__type` at its root (directly,
/// or through fragments).
pub fn selects_introspection(document: &ExecutableDocument) -> bool {
    fn root(document: &ExecutableDocument, set: &Positioned<SelectionSet>, depth: usize) -> bool {
        // Fragment cycles are refused by validation; the depth only keeps this from looping.
        depth < 32
            && set
                .node
                .items
                .iter()
                .any(|selection| match &selection.node {
                    Selection::Field(field) => {
                        matches!(field.node.name.node.as_str(), "__schema" | "__type")
                    }
                    Selection::InlineFragment(fragment) => {
                        root(document, &fragment.node.selection_set, depth + 1)
                    }
                    Selection::FragmentSpread(spread) => document
                        .fragments
                        .get(&spread.node.fragment_name.node)
                        .is_some_and(|f| root(document, &f.node.selection_set, depth + 1)),
                })
    }
    document
        .operations
        .iter()
        .any(|(_, operation)| root(document, &operation.node.selection_set, 0))
}

/// The directive errors of a document, none if it keeps every rule.
pub fn check_directives(document: &ExecutableDocument) -> Vec<ServerError> {
    let mut checker = Checker::default();
    for (_, operation) in document.operations.iter() {
        let location = match operation.node.ty {
            OperationType::Query => Location::Query,
            OperationType::Mutation => Location::Mutation,
            OperationType::Subscription => Location::Subscription,
        };
        checker.directives(&operation.node.directives, location);
        for variable in &operation.node.variable_definitions {
            checker.directives(&variable.node.directives, Location::VariableDefinition);
        }
        checker.selection_set(&operation.node.selection_set);
    }
    for fragment in document.fragments.values() {
        checker.directives(&fragment.node.directives, Location::FragmentDefinition);
        checker.selection_set(&fragment.node.selection_set);
    }
    if checker.found > checker.errors.len() {
        let more = checker.found - checker.errors.len();
        checker.errors.push(ServerError::new(
            format!("... and {more} more directive errors."),
            None,
        ));
    }
    checker.errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(query: &str) -> Vec<String> {
        check_directives(&async_graphql::parser::parse_query(query).unwrap())
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    #[test]
    fn every_place_keeps_the_directive_rules() {
        assert!(errors("{ __typename @skip(if: true) a @include(if: $x) }").is_empty());
        assert!(
            errors("query($x: Boolean!) { ...F @skip(if: $x) } fragment F on Query { a }")
                .is_empty()
        );
        assert_eq!(
            errors("{ __typename @nope }"),
            ["Unknown directive \"@nope\"."]
        );
        let repeated = errors("{ __typename @include(if: true) @include(if: true) }");
        assert!(repeated[0].contains("only be used once"), "{repeated:?}");
        assert!(errors("query @skip(if: true) { a }")[0].contains("may not be used on QUERY"));
        assert!(
            errors("fragment F on Q @include(if: true) { a } { ...F }")[0]
                .contains("FRAGMENT_DEFINITION")
        );
        assert!(errors("query($v: Int @skip(if: true)) { a }")[0].contains("VARIABLE_DEFINITION"));
        assert!(errors("{ a @skip }")[0].contains("is required"));
        assert!(errors("{ a @skip(if: 1) }")[0].contains("Boolean!"));
        assert!(errors("{ a @skip(if: true, unless: false) }")[0].contains("Unknown argument"));
        assert!(errors("{ ... @nope { a } }")[0].contains("@nope"));
        let many = format!("{{ __typename {} }}", "@include(if: true) ".repeat(10_000));
        let many = errors(&many);
        assert_eq!(many.len(), MAX_REPORTED + 1);
        assert!(
            many[MAX_REPORTED].contains("9979 more"),
            "{:?}",
            many.last()
        );
    }

    #[test]
    fn introspection_is_found_at_the_root_through_fragments() {
        let asks = |q: &str| selects_introspection(&async_graphql::parser::parse_query(q).unwrap());
        assert!(asks("{ __schema { types { name } } }"));
        assert!(asks("{ a: __type(name: \"Query\") { name } }"));
        assert!(asks("{ ... on Query { __schema { queryType { name } } } }"));
        assert!(asks(
            "query { ...F } fragment F on Query { __type(name: \"X\") { name } }"
        ));
        assert!(!asks("{ __typename country(code: \"XK\") { name } }"));
    }

    /// `locations` knows every executable directive the schema defines.
    #[test]
    fn the_schema_defines_no_executable_directive_beyond_skip_and_include() {
        const EXECUTABLE: [&str; 8] = [
            "QUERY",
            "MUTATION",
            "SUBSCRIPTION",
            "FIELD",
            "FRAGMENT_DEFINITION",
            "FRAGMENT_SPREAD",
            "INLINE_FRAGMENT",
            "VARIABLE_DEFINITION",
        ];
        for line in crate::graphql::sdl().lines() {
            let Some(rest) = line.trim().strip_prefix("directive @") else {
                continue;
            };
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric()).collect();
            let places = rest.rsplit_once(" on ").map_or("", |(_, on)| on);
            let executable = places
                .split('|')
                .any(|place| EXECUTABLE.contains(&place.trim()));
            assert!(
                !executable || locations(&name).is_some(),
                "the schema defines @{name} for {places}; teach `locations` about it"
            );
        }
    }
}
