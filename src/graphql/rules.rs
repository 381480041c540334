//! Rules of a document that async-graphql 7 leaves gaps in, checked before it runs.
//!
//! - The spec's directive rules, over every place of a document: Directives Are Defined,
//!   Directives Are In Valid Locations, Directives Are Unique Per Location, and their
//!   arguments. async-graphql has these rules, but its validation never enters a `__typename`
//!   field, so `{ __typename @nope }` and ten thousand `@include`s on one `__typename` passed.
//! - Introspection, when turned off: async-graphql then answers `__schema: null`, where a
//!   client should learn that it is not allowed.
//! - Nesting, before parsing: async-graphql's parser recurses into list and object values with
//!   no limit, so a few kilobytes of `[[[[...` overflowed a worker's stack and killed the
//!   process.
//! - Fragment expansion: async-graphql validates a fragment once per spread, so fragments
//!   that each spread the next twice made validation exponential (20 levels: 6 s).
//! - Required variables: one of a non-null type without a default must be given, or the
//!   request fails before it runs (async-graphql ran it and failed the field).

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

/// Every rule here over a parsed request: what is wrong with it, nothing if it may run.
pub fn check_document(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &async_graphql::Variables,
    introspection: bool,
) -> Vec<ServerError> {
    // First, and alone: what follows walks fragments too, and async-graphql's validation
    // walks them once per spread.
    if let Err(e) = check_expansion(document) {
        return vec![e];
    }
    let mut errors = check_directives(document);
    if !introspection && selects_introspection(document) {
        errors.push(ServerError::new(
            "introspection is turned off on this server (http.introspection)",
            None,
        ));
    }
    if let Some(operation) = super::order::operation(document, operation_name) {
        errors.extend(check_required_variables(operation, variables));
    }
    errors
}

/// The deepest nesting of brackets (`{`, `[`, `(`) a document may have. Far past any real
/// query (selections are limited to `limits.max_depth` anyway), far below what overflows a
/// worker's stack.
pub const MAX_NESTING: usize = 128;

/// Refuses a query text nested deeper than `MAX_NESTING`, before anything parses it. Strings,
/// block strings and comments are skipped.
pub fn check_nesting(query: &str) -> Result<(), String> {
    let bytes = query.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > MAX_NESTING {
                    return Err(format!(
                        "the document nests brackets deeper than {MAX_NESTING} levels"
                    ));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The most selections a document may expand to through its fragments.
pub const MAX_EXPANDED_FIELDS: u64 = 50_000;

/// Refuses a document whose operations, with every fragment spread expanded, make more than
/// `MAX_EXPANDED_FIELDS` selections (each field, and each spread, counts), and one that spreads
/// a fragment it does not define or spreads fragments in a cycle: async-graphql's validation
/// would walk those spread by spread before it refused them. Each fragment's size is computed
/// once, so a document that doubles at each level is refused at once.
pub fn check_expansion(document: &ExecutableDocument) -> Result<(), ServerError> {
    struct Walk<'d> {
        document: &'d ExecutableDocument,
        sizes: std::collections::HashMap<&'d str, u64>,
        visiting: HashSet<&'d str>,
    }
    impl<'d> Walk<'d> {
        fn size(&mut self, set: &'d SelectionSet) -> Result<u64, ServerError> {
            let mut total = 0u64;
            for selection in &set.items {
                let n = match &selection.node {
                    Selection::Field(field) => {
                        1u64.saturating_add(self.size(&field.node.selection_set.node)?)
                    }
                    Selection::InlineFragment(fragment) => {
                        1u64.saturating_add(self.size(&fragment.node.selection_set.node)?)
                    }
                    Selection::FragmentSpread(spread) => {
                        let name = spread.node.fragment_name.node.as_str();
                        let n = match self.sizes.get(name) {
                            Some(n) => *n,
                            None => {
                                let Some(fragment) =
                                    self.document.fragments.get(&spread.node.fragment_name.node)
                                else {
                                    return Err(ServerError::new(
                                        format!("Unknown fragment \"{name}\"."),
                                        Some(spread.pos),
                                    ));
                                };
                                if !self.visiting.insert(name) {
                                    return Err(ServerError::new(
                                        format!("Cannot spread fragment \"{name}\" within itself."),
                                        Some(spread.pos),
                                    ));
                                }
                                let n = self.size(&fragment.node.selection_set.node)?;
                                self.visiting.remove(name);
                                self.sizes.insert(name, n);
                                n
                            }
                        };
                        1u64.saturating_add(n)
                    }
                };
                total = total.saturating_add(n);
                if total > MAX_EXPANDED_FIELDS {
                    return Ok(total);
                }
            }
            Ok(total)
        }
    }
    let mut walk = Walk {
        document,
        sizes: std::collections::HashMap::new(),
        visiting: HashSet::new(),
    };
    for (_, operation) in document.operations.iter() {
        let n = walk.size(&operation.node.selection_set.node)?;
        if n > MAX_EXPANDED_FIELDS {
            return Err(ServerError::new(
                format!(
                    "The document makes more than {MAX_EXPANDED_FIELDS} selections once its fragments are expanded."
                ),
                None,
            ));
        }
    }
    // Fragments no operation spreads are walked too: async-graphql validates them all.
    for fragment in document.fragments.values() {
        walk.size(&fragment.node.selection_set.node)?;
    }
    Ok(())
}

/// The errors of variables that the operation requires (a non-null type, no default) but the
/// request does not give, or gives as null. GraphQL coerces variables before it executes:
/// these make the request fail as a whole.
pub fn check_required_variables(
    operation: &async_graphql::parser::types::OperationDefinition,
    variables: &async_graphql::Variables,
) -> Vec<ServerError> {
    operation
        .variable_definitions
        .iter()
        .filter(|v| !v.node.var_type.node.nullable && v.node.default_value.is_none())
        .filter(|v| {
            matches!(
                variables.get(v.node.name.node.as_str()),
                None | Some(Value::Null)
            )
        })
        .map(|v| {
            ServerError::new(
                format!(
                    "Variable \"${}\" of required type \"{}\" was not provided.",
                    v.node.name.node, v.node.var_type.node
                ),
                Some(v.pos),
            )
        })
        .collect()
}

/// Whether an operation of the document asks for `__schema` or `__type` at its root (directly,
/// or through fragments).
pub fn selects_introspection(document: &ExecutableDocument) -> bool {
    /// Each fragment is looked into once (`seen`): a document that spreads the same fragments
    /// again and again costs no more than one that spreads each once.
    fn root<'d>(
        document: &'d ExecutableDocument,
        set: &'d Positioned<SelectionSet>,
        seen: &mut HashSet<&'d str>,
    ) -> bool {
        set.node
            .items
            .iter()
            .any(|selection| match &selection.node {
                Selection::Field(field) => {
                    matches!(field.node.name.node.as_str(), "__schema" | "__type")
                }
                Selection::InlineFragment(fragment) => {
                    root(document, &fragment.node.selection_set, seen)
                }
                Selection::FragmentSpread(spread) => {
                    seen.insert(spread.node.fragment_name.node.as_str())
                        && document
                            .fragments
                            .get(&spread.node.fragment_name.node)
                            .is_some_and(|f| root(document, &f.node.selection_set, seen))
                }
            })
    }
    let mut seen = HashSet::new();
    document
        .operations
        .iter()
        .any(|(_, operation)| root(document, &operation.node.selection_set, &mut seen))
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

    /// `{ ...F0 }` and fragments F0..F{levels-1} that each spread the next twice, then
    /// `fragment F{levels} on Query { last }`.
    fn doubling(levels: usize, last: &str) -> String {
        let mut query = String::from("{ ...F0 }");
        for level in 0..levels {
            let next = level + 1;
            query.push_str(&format!(
                " fragment F{level} on Query {{ ...F{next} ...F{next} }}"
            ));
        }
        query.push_str(&format!(" fragment F{levels} on Query {{ {last} }}"));
        query
    }

    #[test]
    fn nesting_is_measured_outside_strings_and_comments() {
        assert!(check_nesting("{ a(b: [[1]]) { c } }").is_ok());
        let deep = format!("{{ a(b: {}1{}) }}", "[".repeat(200), "]".repeat(200));
        assert!(check_nesting(&deep).unwrap_err().contains("128"));
        let quoted = format!("{{ a(b: \"{}\") }} # {}", "[".repeat(500), "{".repeat(500));
        assert!(check_nesting(&quoted).is_ok());
        let block = format!("{{ a(b: \"\"\"{}\\\"\"\"\"\"\") }}", "(".repeat(500));
        assert!(check_nesting(&block).is_ok(), "{block}");
        assert!(check_nesting(&"{ a ".repeat(MAX_NESTING)).is_ok());
        assert!(check_nesting(&"{ a ".repeat(MAX_NESTING + 1)).is_err());
    }

    #[test]
    fn fragments_that_double_at_each_level_are_refused_at_once() {
        let document = async_graphql::parser::parse_query(doubling(40, "__typename")).unwrap();
        let started = std::time::Instant::now();
        assert!(check_expansion(&document).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let fine = "{ ...A ...A } fragment A on Query { a b { c } }";
        assert!(check_expansion(&async_graphql::parser::parse_query(fine).unwrap()).is_ok());
        let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        let refused = check_expansion(&async_graphql::parser::parse_query(cycle).unwrap());
        assert!(refused.unwrap_err().message.contains("within itself"));
        // Spreads count, even of a fragment that selects nothing that exists.
        let unknown = doubling(30, "...Nope");
        let refused = check_expansion(&async_graphql::parser::parse_query(&unknown).unwrap());
        assert!(refused.is_err());
        let only_unknown = "{ ...Nope }";
        let refused = check_expansion(&async_graphql::parser::parse_query(only_unknown).unwrap());
        assert!(refused.unwrap_err().message.contains("Unknown fragment"));
    }

    #[test]
    fn required_variables_must_be_given() {
        let document = async_graphql::parser::parse_query(
            "query($a: String!, $b: Int, $c: ID! = \"x\") { f }",
        )
        .unwrap();
        let operation = &crate::graphql::order::operation(&document, None).unwrap();
        let none = async_graphql::Variables::default();
        let errors = check_required_variables(operation, &none);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("$a"), "{}", errors[0].message);
        let given = async_graphql::Variables::from_json(serde_json::json!({ "a": "x" }));
        assert!(check_required_variables(operation, &given).is_empty());
        let null = async_graphql::Variables::from_json(serde_json::json!({ "a": null }));
        assert_eq!(check_required_variables(operation, &null).len(), 1);
    }

    #[test]
    fn introspection_is_found_at_the_root_through_fragments() {
        let asks = |q: &str| selects_introspection(&async_graphql::parser::parse_query(q).unwrap());
        assert!(asks("{ __schema { types { name } } }"));
        assert!(asks("{ a: __type(name: \"Query\") { name } }"));
        let parsed = async_graphql::parser::parse_query(doubling(40, "__typename")).unwrap();
        let started = std::time::Instant::now();
        assert!(!selects_introspection(&parsed));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
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
