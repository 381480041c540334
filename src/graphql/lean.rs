//! Objects and lists resolved with one future per object instead of one per field.
//!
//! async-graphql's executor boxes the future of every field it resolves and runs an object's
//! fields in a `FuturesUnordered`, and a list of more than 30 items in a `FuturesOrdered`: an
//! allocation, a task and a waker per field and per item. For the objects a page is made of,
//! whose fields are mostly plain data ready on their first poll, that machinery costs more than
//! the fields. `Lean` and `LeanList` present a type to the schema exactly as the type itself (same
//! name, same fields, same SDL) but resolve a selection of plain fields with the type's own field
//! resolvers, each future polled once where it is made and run side by side with the rest only
//! if it has to wait (`each_then_together`), never boxed; what they do not cover (a
//! fragment, a directive, a response key selected twice) goes through async-graphql's executor
//! unchanged. Field resolvers, errors and their paths are the type's own either way.
//! `LeanEdges`, a connection's list of edges, goes one step further: an edge's `cursor` and
//! `node` are answered from the edge itself (`Edge`), without its type's resolvers.
//!
//! What they skip is the executor's per-field `resolve` hook for extensions: the schemas'
//! extensions (the batch budget) watch validation only, and one that watched fields would have
//! to be told apart here (async-graphql keeps whether there are any to itself).

use async_graphql::futures_util::future::{join, join_all};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{resolve_container, ContainerType};
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value};
use std::borrow::Cow;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::Poll;

/// `T`, resolved field by field without a boxed future per field.
pub struct Lean<T>(pub T);

impl<T: ContainerType> OutputType for Lean<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_object(ctx, &self.0).await
    }
}

/// A list of `T`, each resolved as `Lean<T>` would be, all side by side in one future.
pub struct LeanList<T>(pub Vec<T>);

impl<T: ContainerType> OutputType for LeanList<T> {
    fn type_name() -> Cow<'static, str> {
        Vec::<T>::type_name()
    }

    fn qualified_type_name() -> String {
        Vec::<T>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Vec::<T>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_list(self.0.len(), |i| resolve_item(ctx, i, &self.0[i])).await
    }
}

/// A connection's edge: a cursor and a node. `LeanEdges` answers the edge type's `cursor` and
/// `node` fields with these, not with the type's resolvers: those fields must stay exactly
/// what these give (no arguments, guards or other work of their own).
pub trait Edge: ContainerType {
    type Node: ContainerType;
    fn cursor(&self) -> String;
    fn node(&self) -> &Self::Node;
}

/// A connection's edges, resolved as `LeanList` resolves its items, except that an edge's
/// `cursor` and `node` are answered here rather than through the edge type's own resolvers: a
/// page is mostly edges, and each went through one more object's machinery for two fields.
pub struct LeanEdges<E>(pub Vec<E>);

impl<E: Edge> OutputType for LeanEdges<E> {
    fn type_name() -> Cow<'static, str> {
        Vec::<E>::type_name()
    }

    fn qualified_type_name() -> String {
        Vec::<E>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Vec::<E>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_list(self.0.len(), |i| resolve_edge(ctx, i, &self.0[i])).await
    }
}

/// The items `make` resolves for `0..count`, as a list.
async fn resolve_list<'a, F>(
    count: usize,
    make: impl Fn(usize) -> F + Send + 'a,
) -> ServerResult<Value>
where
    F: Future<Output = ServerResult<Value>> + Send + 'a,
{
    // Boxed as a `dyn` future, once per list: a type's fields lead back to the type (a
    // country's missions have a host country), and a future that held its fields' futures
    // all the way down would have no size, nor a type the compiler could work out.
    let list: Pin<Box<dyn Future<Output = ServerResult<Value>> + Send + 'a>> =
        Box::pin(async move {
            let resolved = each_then_together(count, make).await;
            let mut values = Vec::with_capacity(count);
            // As the executor's `try_join_all`: the list fails with its first failed item.
            for value in resolved {
                values.push(value?);
            }
            Ok(Value::List(values))
        });
    list.await
}

/// Resolves `root`'s selection the way async-graphql's `resolve_container` does, when the
/// selection is plain fields; otherwise hands it to `resolve_container`.
pub async fn resolve_object<T: ContainerType + ?Sized>(
    ctx: &ContextSelectionSet<'_>,
    root: &T,
) -> ServerResult<Value> {
    let selections = &ctx.item.node.items;
    if !plain_fields(selections) {
        // Boxed: inline, the executor's future would make this one, and every future that
        // holds one (a page holds one per row), as large as itself, and moving them costs.
        return Box::pin(resolve_container(ctx, root)).await;
    }
    let resolved = each_then_together(selections.len(), |i| {
        resolve_field(ctx, &selections[i], root)
    })
    .await;
    let mut object = IndexMap::with_capacity(selections.len());
    for (selection, value) in selections.iter().zip(resolved) {
        let Selection::Field(field) = &selection.node else {
            continue; // `plain_fields` let only fields through
        };
        match value {
            Ok(value) => {
                object.insert(
                    field.node.response_key().node.clone(),
                    value.unwrap_or_default(),
                );
            }
            // As the executor does: the error is the response's, the field left out.
            Err(error) => ctx.add_error(error),
        }
    }
    Ok(if object.is_empty() {
        Value::Null
    } else {
        Value::Object(object)
    })
}

async fn resolve_item<T: ContainerType>(
    ctx: &ContextSelectionSet<'_>,
    index: usize,
    item: &T,
) -> ServerResult<Value> {
    let ctx_item = ctx.with_index(index);
    resolve_object(&ctx_item, item)
        .await
        .map_err(|error| ctx_item.set_error_path(error))
}

/// An edge as `resolve_item` would resolve it, `cursor` and `node` answered without going
/// through the edge type's resolvers; a selection of anything else, or of `node` twice under
/// two names (the two would wait for their loads one after the other here), goes to
/// `resolve_item`.
async fn resolve_edge<E: Edge>(
    ctx: &ContextSelectionSet<'_>,
    index: usize,
    edge: &E,
) -> ServerResult<Value> {
    let selections = &ctx.item.node.items;
    let mut nodes = 0;
    let edge_fields = selections.iter().all(|selection| {
        let Selection::Field(field) = &selection.node else {
            return false;
        };
        match field.node.name.node.as_str() {
            "node" => {
                nodes += 1;
                nodes == 1
            }
            name => matches!(name, "cursor" | "__typename"),
        }
    });
    if !edge_fields || !plain_fields(selections) {
        return resolve_item(ctx, index, edge).await;
    }
    let ctx_item = ctx.with_index(index);
    let mut object = IndexMap::with_capacity(selections.len());
    for selection in selections {
        let Selection::Field(field) = &selection.node else {
            continue; // only fields came through
        };
        let value = match field.node.name.node.as_str() {
            "cursor" => Value::String(edge.cursor()),
            "node" => {
                let ctx_field = ctx_item.with_field(field);
                let ctx_node = ctx_field.with_selection_set(&field.node.selection_set);
                match resolve_object(&ctx_node, edge.node()).await {
                    Ok(value) => value,
                    // As `resolve_object` does with a field's error.
                    Err(error) => {
                        ctx_item.add_error(error);
                        continue;
                    }
                }
            }
            _ => Value::String(edge.introspection_type_name().into_owned()),
        };
        object.insert(field.node.response_key().node.clone(), value);
    }
    Ok(if object.is_empty() {
        Value::Null
    } else {
        Value::Object(object)
    })
}

async fn resolve_field<T: ContainerType + ?Sized>(
    ctx: &ContextSelectionSet<'_>,
    selection: &Positioned<Selection>,
    root: &T,
) -> ServerResult<Option<Value>> {
    let Selection::Field(field) = &selection.node else {
        return Ok(None); // `plain_fields` let only fields through
    };
    if field.node.name.node == "__typename" {
        return Ok(Some(Value::String(
            root.introspection_type_name().into_owned(),
        )));
    }
    let ctx_field = ctx.with_field(field);
    root.resolve_field(&ctx_field).await
}

/// Whether `resolve_object` may resolve the selection itself: only fields, none with a
/// directive (`@skip` and `@include` are gone by now; a custom one must run), each response key
/// once (the executor merges repeated ones).
fn plain_fields(selections: &[Positioned<Selection>]) -> bool {
    selections.iter().enumerate().all(|(i, selection)| {
        let Selection::Field(field) = &selection.node else {
            return false;
        };
        let key = &field.node.response_key().node;
        field.node.directives.is_empty()
            && !selections[..i].iter().any(|earlier| {
                matches!(&earlier.node, Selection::Field(f) if &f.node.response_key().node == key)
            })
    })
}

/// The outputs of the futures `make` makes for `0..count`, in that order. Each is polled once
/// where it is made: most are ready at once (data at hand) and so need neither a place on the
/// heap nor a turn in a join. From the first that must wait on, it and every one after it run
/// side by side, so that the loads they wait for share a batch.
async fn each_then_together<F: Future>(count: usize, make: impl Fn(usize) -> F) -> Vec<F::Output> {
    let mut outputs = Vec::with_capacity(count);
    for i in 0..count {
        let mut future = pin!(make(i));
        match poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await {
            Poll::Ready(output) => outputs.push(output),
            Poll::Pending => {
                let rest = join_in_place((i + 1..count).map(&make).collect());
                let (output, rest) = join(future, rest).await;
                outputs.push(output);
                outputs.extend(rest);
                break;
            }
        }
    }
    outputs
}

/// Runs the futures side by side, their outputs in their order. `join_all` does so in one
/// allocation up to 30 futures and with a task per future beyond; groups of up to 30, joined,
/// keep it to one allocation per group for the page sizes clients ask for.
async fn join_in_place<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    const GROUP: usize = 30;
    if futures.len() <= GROUP {
        return join_all(futures).await;
    }
    let mut groups = Vec::with_capacity(futures.len().div_ceil(GROUP));
    let mut futures = futures.into_iter();
    loop {
        let group: Vec<F> = futures.by_ref().take(GROUP).collect();
        if group.is_empty() {
            break;
        }
        groups.push(join_all(group));
    }
    join_all(groups).await.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::sync::Barrier;

    /// One item of a list whose `waits` field opens only when every item of its list waits on
    /// it, as a loader's batch does: resolved one after another, they would never finish.
    struct Item {
        n: i32,
        batch: Arc<Barrier>,
    }

    #[Object]
    impl Item {
        async fn n(&self) -> i32 {
            self.n
        }
        async fn waits(&self) -> i32 {
            self.batch.wait().await;
            self.n * 10
        }
        async fn fails(&self) -> async_graphql::Result<Option<i32>> {
            if self.n == 2 {
                Err("two fails".into())
            } else {
                Ok(Some(self.n))
            }
        }
        async fn must(&self) -> async_graphql::Result<i32> {
            if self.n == 3 {
                Err("three must not".into())
            } else {
                Ok(self.n)
            }
        }
        async fn child(&self) -> Lean<Child> {
            Lean(Child(self.n))
        }
        async fn plain_child(&self) -> Child {
            Child(self.n)
        }
    }

    struct Child(i32);

    #[Object]
    impl Child {
        async fn m(&self) -> i32 {
            self.0 + 100
        }
        async fn words(&self) -> Vec<String> {
            vec![format!("w{}", self.0)]
        }
    }

    /// An edge of a connection of items, its cursor made from the item.
    struct ItemEdge(Item);

    #[Object]
    impl ItemEdge {
        async fn cursor(&self) -> String {
            Edge::cursor(self)
        }
        async fn node(&self) -> Lean<&Item> {
            Lean(&self.0)
        }
    }

    impl Edge for ItemEdge {
        type Node = Item;
        fn cursor(&self) -> String {
            format!("c{}", self.0.n)
        }
        fn node(&self) -> &Item {
            &self.0
        }
    }

    struct Query;

    fn items() -> Vec<Item> {
        let batch = Arc::new(Barrier::new(4));
        (1..=4)
            .map(|n| Item {
                n,
                batch: batch.clone(),
            })
            .collect()
    }

    #[Object]
    impl Query {
        async fn lean(&self) -> LeanList<Item> {
            LeanList(items())
        }
        async fn full(&self) -> Vec<Item> {
            items()
        }
        async fn lean_edges(&self) -> LeanEdges<ItemEdge> {
            LeanEdges(items().into_iter().map(ItemEdge).collect())
        }
        async fn full_edges(&self) -> Vec<ItemEdge> {
            items().into_iter().map(ItemEdge).collect()
        }
    }

    /// The response to `{ lean <selection> }` with every `lean` turned into `full`, and the
    /// response to `{ full <selection> }`: async-graphql's executor's answer. (The names are
    /// as long as each other, so that errors point at the same columns.)
    async fn both(selection: &str) -> (serde_json::Value, serde_json::Value) {
        both_at("lean", "full", selection).await
    }

    /// As `both`, for the roots named.
    async fn both_at(
        lean: &'static str,
        full: &'static str,
        selection: &str,
    ) -> (serde_json::Value, serde_json::Value) {
        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        let run = |root: &'static str| {
            let schema = schema.clone();
            let query = format!("{{ {root} {selection} }}");
            async move {
                let response = tokio::time::timeout(Duration::from_secs(10), schema.execute(query))
                    .await
                    .expect("items that wait on each other ran side by side");
                let text = serde_json::to_string(&response).unwrap();
                let renamed = text.replace(&format!("\"{lean}\""), &format!("\"{full}\""));
                serde_json::from_str::<serde_json::Value>(&renamed).unwrap()
            }
        };
        (run(lean).await, run(full).await)
    }

    #[tokio::test]
    async fn lean_edges_answer_as_the_executor_does() {
        for selection in [
            "{ cursor node { waits n } }",
            "{ node { n } second: cursor __typename cursor }",
            // Errors inside the node, a nullable one's and a non-null one's.
            "{ cursor node { fails } }",
            "{ node { waits must } cursor }",
            // What goes to the edge type's own resolvers: fragments, a key asked twice.
            "{ ... on ItemEdge { cursor } node { n } }",
            "{ cursor cursor node { n } }",
            "{ node { n } other: node { waits } }",
            "{ node @include(if: true) { n } }",
        ] {
            let (lean, plain) = both_at("leanEdges", "fullEdges", selection).await;
            assert_eq!(lean, plain, "{selection}");
        }
        let (lean, _) = both_at("leanEdges", "fullEdges", "{ node { fails } }").await;
        assert_eq!(
            lean["errors"][0]["path"],
            serde_json::json!(["fullEdges", 1, "node", "fails"])
        );
    }

    #[tokio::test]
    async fn lean_answers_as_the_executor_does() {
        for selection in [
            // Plain fields, in an order of their own, aliased, with the type's name.
            "{ waits n second: n __typename child { words m } plainChild { m } }",
            // Errors: a nullable field's becomes null, a non-null one's takes its object; each
            // with the path to it, through the list's index.
            "{ n fails must }",
            "{ child { m } must waits }",
            // What goes to the executor: fragments, a key asked twice, skipped fields.
            "{ ... on Item { n } child { m } }",
            "{ n n child { m } child { words } }",
            "{ n waits @skip(if: true) child @include(if: false) { m } }",
            "{ n @include(if: true) }",
        ] {
            let (lean, plain) = both(selection).await;
            assert_eq!(lean, plain, "{selection}");
        }
        let (lean, _) = both("{ n fails }").await;
        assert_eq!(
            lean["errors"][0]["path"],
            serde_json::json!(["full", 1, "fails"])
        );
        // async-graphql assembles an object in the order its fields finish; a lean object
        // keeps the order asked, even when the first field is the one that waits.
        let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
        let response = schema.execute("{ lean { waits n second: n } }").await;
        let async_graphql::Value::Object(data) = response.data else {
            panic!("no data: {:?}", response.errors)
        };
        let Some(async_graphql::Value::List(items)) = data.get("lean") else {
            panic!("no list")
        };
        let async_graphql::Value::Object(first) = &items[0] else {
            panic!("no object")
        };
        assert_eq!(
            first.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
            ["waits", "n", "second"]
        );
    }
}
