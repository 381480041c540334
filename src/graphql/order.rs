//! async-graphql 7 assembles an object's fields in the order they finish, not the order they
//! were asked for (its issue #612). GraphQL asks for the latter ("Serialized Map Ordering"), and
//! people reading a response, or tools showing its first lines, rely on it: a field answered
//! from memory would otherwise jump ahead of one that waited for the store. This puts every
//! object of a response back in the order of its selection set.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Value};

/// Fragments nest at most this deep here; validation has already refused cycles.
const MAX_FRAGMENT_DEPTH: usize = 64;

/// The operation a document runs under `name` (by name, or the only one), if there is one.
pub fn operation<'d>(
    doc: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        _ => None,
    }
}

/// Reorders `data`, the result of running `operation` (by name, or the only one) of `doc`.
pub fn order_as_selected(data: &mut Value, doc: &ExecutableDocument, operation_name: Option<&str>) {
    if let Some(operation) = operation(doc, operation_name) {
        reorder(vec![data], &[&operation.selection_set.node], doc);
    }
}

/// Puts every object among `values`, and in lists among them, in the order of `sets`, which
/// they all answer. Values that answer the same field are taken together, so that a field's
/// keys are collected once per place in the query, not once per object.
fn reorder(values: Vec<&mut Value>, sets: &[&SelectionSet], doc: &ExecutableDocument) {
    let mut objects = Vec::new();
    for value in values {
        objects_in(value, &mut objects);
    }
    if objects.is_empty() {
        return;
    }
    let mut keys = Keys::default();
    for set in sets {
        collect(set, doc, &mut keys, 0);
    }
    let rank = |key: &Name| keys.position(key).unwrap_or(usize::MAX);
    for map in objects.iter_mut() {
        // Most objects are in order already (fields that finish at once finish in order):
        // those are only checked, not rebuilt.
        let in_order = map
            .keys()
            .map(rank)
            .try_fold(0, |last, r| (r >= last).then_some(r))
            .is_some();
        if !in_order {
            // Stable: anything unselected keeps its value, at the end.
            map.sort_by_cached_key(|key, _| rank(key));
        }
    }
    for (key, subsets) in &keys.list {
        if subsets.iter().all(|s| s.items.is_empty()) {
            continue;
        }
        let answers = objects
            .iter_mut()
            .filter_map(|map| map.get_mut(*key))
            .collect();
        reorder(answers, subsets, doc);
    }
}

/// Past this many keys in one selection set, keys are found through a hash map rather than by
/// a scan: a query of thousands of aliases was quadratic here.
const INDEX_FROM: usize = 16;

/// The response keys of a place in the query, in order, each with its sub-selections.
#[derive(Default)]
struct Keys<'d> {
    list: Vec<(&'d Name, Vec<&'d SelectionSet>)>,
    /// Positions in `list`, once it is long.
    index: Option<std::collections::HashMap<&'d Name, usize>>,
}

impl<'d> Keys<'d> {
    fn position(&self, key: &Name) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.list.iter().position(|(k, _)| *k == key),
        }
    }

    fn add(&mut self, key: &'d Name, sub: &'d SelectionSet) {
        if let Some(i) = self.position(key) {
            self.list[i].1.push(sub);
            return;
        }
        if let Some(index) = &mut self.index {
            index.insert(key, self.list.len());
        }
        self.list.push((key, vec![sub]));
        if self.index.is_none() && self.list.len() > INDEX_FROM {
            self.index = Some(
                self.list
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (*k, i))
                    .collect(),
            );
        }
    }
}

/// The objects in `value`: itself, or the items of a list, however deeply nested.
fn objects_in<'v>(value: &'v mut Value, out: &mut Vec<&'v mut IndexMap<Name, Value>>) {
    match value {
        Value::List(items) => items.iter_mut().for_each(|item| objects_in(item, out)),
        Value::Object(map) => out.push(map),
        _ => {}
    }
}

/// The response keys a selection set yields, in order, each with its sub-selections (a key
/// selected twice merges both).
fn collect<'d>(
    set: &'d SelectionSet,
    doc: &'d ExecutableDocument,
    keys: &mut Keys<'d>,
    depth: usize,
) {
    if depth > MAX_FRAGMENT_DEPTH {
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                keys.add(
                    &field.node.response_key().node,
                    &field.node.selection_set.node,
                );
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = doc.fragments.get(&spread.node.fragment_name.node) {
                    collect(&fragment.node.selection_set.node, doc, keys, depth + 1);
                }
            }
            Selection::InlineFragment(inline) => {
                collect(&inline.node.selection_set.node, doc, keys, depth + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ordered(query: &str, data: serde_json::Value) -> String {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        let mut value = Value::from_json(data).unwrap();
        order_as_selected(&mut value, &doc, None);
        serde_json::to_string(&value).unwrap()
    }

    #[test]
    fn objects_follow_their_selection_through_lists_aliases_and_fragments() {
        let query = "query { b a: x { z ...F ... on T { w } } } fragment F on T { y }";
        let data = serde_json::json!({ "a": [{ "w": 1, "y": 2, "z": 3 }], "b": 4 });
        assert_eq!(ordered(query, data), r#"{"b":4,"a":[{"z":3,"y":2,"w":1}]}"#);
        // A field selected twice is one key, merged, at its first place.
        let query = "{ p { q } r p { s } }";
        let data = serde_json::json!({ "r": 1, "p": { "s": 2, "q": 3 } });
        assert_eq!(ordered(query, data), r#"{"p":{"q":3,"s":2},"r":1}"#);
    }

    #[test]
    fn many_keys_keep_their_order_and_merge_through_the_index() {
        let fields: Vec<String> = (0..40).map(|i| format!("a{i}: x {{ y }}")).collect();
        // a3 is selected twice: its two selections merge, at its first place.
        let query = format!("{{ {} a3: x {{ z w }} }}", fields.join(" "));
        let mut data = serde_json::Map::new();
        for i in (0..40).rev() {
            data.insert(
                format!("a{i}"),
                serde_json::json!({ "w": 0, "z": 1, "y": 2 }),
            );
        }
        let out = ordered(&query, serde_json::Value::Object(data));
        let expected: Vec<String> = (0..40)
            .map(|i| match i {
                3 => r#""a3":{"y":2,"z":1,"w":0}"#.to_string(),
                // Unselected keys keep their order, after the selected ones.
                _ => format!(r#""a{i}":{{"y":2,"w":0,"z":1}}"#),
            })
            .collect();
        assert_eq!(out, format!("{{{}}}", expected.join(",")));
    }

    #[test]
    fn every_object_of_nested_lists_is_ordered_whatever_its_siblings() {
        let query = "{ a { b c { d e } } }";
        let data = serde_json::json!({ "a": [
            [{ "c": { "e": 1, "d": 2 }, "b": 3 }, null],
            [{ "b": 4, "c": { "d": 5, "e": 6 } }, { "c": null, "b": 7 }],
        ] });
        assert_eq!(
            ordered(query, data),
            r#"{"a":[[{"b":3,"c":{"d":2,"e":1}},null],[{"b":4,"c":{"d":5,"e":6}},{"b":7,"c":null}]]}"#
        );
    }
}
