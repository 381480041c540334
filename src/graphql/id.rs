//! Global node ids: opaque to clients, stable across restarts (they encode kind and key).

use crate::domain::{NodeKind, NodeRef};
use async_graphql::ID;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub fn encode(node: &NodeRef) -> ID {
    ID(URL_SAFE_NO_PAD.encode(node.to_string()))
}

pub fn encode_parts(kind: NodeKind, key: &str) -> ID {
    encode(&NodeRef::new(kind, key))
}

/// None when the id was not made by this server.
pub fn decode(id: &str) -> Option<NodeRef> {
    let bytes = URL_SAFE_NO_PAD.decode(id.trim()).ok()?;
    String::from_utf8(bytes).ok()?.parse().ok()
}

pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

pub fn decode_cursor(cursor: &str) -> Option<String> {
    String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_garbage_is_rejected() {
        let node = NodeRef::new(NodeKind::Provision, "serbia-kosovo/3");
        assert_eq!(decode(&encode(&node)), Some(node));
        assert_eq!(decode("not base64!"), None);
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode("Planet:earth")), None);
        assert_eq!(decode_cursor(&encode_cursor("XK")).as_deref(), Some("XK"));
    }
}
