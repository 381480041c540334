//! Relay connections: opaque cursors, `first`/`after`, `totalCount`. Rows are in key order,
//! so a cursor stays valid when rows around it are added or removed.

use super::error::ApiError;
use super::id;
use async_graphql::SimpleObject;
use std::ops::Range;

#[derive(SimpleObject, Clone, Debug, Default)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// One page of rows, before it becomes a concrete GraphQL connection type.
pub struct Page<T> {
    pub rows: Vec<(String, T)>,
    pub info: PageInfo,
    pub total: usize,
}

macro_rules! connection_types {
    ($($connection:ident, $edge:ident, $node:ty;)+) => {$(
        pub struct $edge {
            /// The row's key; its cursor is made only when asked for.
            pub key: String,
            pub node: $node,
        }

        #[::async_graphql::Object]
        impl $edge {
            async fn cursor(&self) -> String {
                <Self as $crate::graphql::lean::Edge>::cursor(self)
            }

            async fn node(&self) -> $crate::graphql::lean::Lean<&$node> {
                $crate::graphql::lean::Lean(&self.node)
            }
        }

        impl $crate::graphql::lean::Edge for $edge {
            type Node = $node;

            fn cursor(&self) -> String {
                $crate::graphql::id::encode_cursor(&self.key)
            }

            fn node(&self) -> &$node {
                &self.node
            }
        }

        #[derive(::async_graphql::SimpleObject)]
        pub struct $connection {
            pub edges: $crate::graphql::lean::LeanEdges<$edge>,
            pub page_info: $crate::graphql::connection::PageInfo,
            pub total_count: i32,
        }

        impl From<$crate::graphql::connection::Page<$node>> for $connection {
            fn from(page: $crate::graphql::connection::Page<$node>) -> Self {
                $connection {
                    edges: $crate::graphql::lean::LeanEdges(page
                        .rows
                        .into_iter()
                        .map(|(key, node)| $edge { key, node })
                        .collect()),
                    page_info: page.info,
                    total_count: page.total.min(i32::MAX as usize) as i32,
                }
            }
        }
    )+};
}
pub(crate) use connection_types;

/// Page-size rules, from config.
#[derive(Clone, Copy, Debug)]
pub struct PageLimits {
    pub default_size: usize,
    pub max_size: usize,
}

impl PageLimits {
    pub fn size(&self, first: Option<i32>) -> Result<usize, ApiError> {
        match first {
            None => Ok(self.default_size),
            Some(n) if n < 0 => Err(ApiError::bad_input("`first` must not be negative")),
            Some(n) if n as usize > self.max_size => Err(ApiError::bad_input(format!(
                "`first` must be at most {}; page through larger results with `after`",
                self.max_size
            ))),
            Some(n) => Ok(n as usize),
        }
    }
}

/// A page request, validated.
#[derive(Clone, Debug)]
pub struct PageRequest {
    pub size: usize,
    pub after: Option<String>,
}

impl PageRequest {
    pub fn new(
        limits: &PageLimits,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Self, ApiError> {
        let size = limits.size(first)?;
        let after = after
            .map(|c| {
                id::decode_cursor(&c).ok_or_else(|| {
                    ApiError::bad_input(format!("`after` is not a cursor from this API: '{c}'"))
                })
            })
            .transpose()?;
        Ok(PageRequest { size, after })
    }

    /// Where one page lies in all matching keys, given sorted and unique.
    pub fn slice(&self, sorted_keys: &[String]) -> (Range<usize>, PageInfo) {
        let start = match &self.after {
            Some(after) => sorted_keys.partition_point(|k| k <= after),
            None => 0,
        };
        let end = (start + self.size).min(sorted_keys.len());
        let page = &sorted_keys[start..end];
        let info = PageInfo {
            has_next_page: end < sorted_keys.len(),
            has_previous_page: start > 0,
            start_cursor: page.first().map(|k| id::encode_cursor(k)),
            end_cursor: page.last().map(|k| id::encode_cursor(k)),
        };
        (start..end, info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("k{i:02}")).collect()
    }

    #[test]
    fn pages_walk_every_key_once() {
        let limits = PageLimits {
            default_size: 3,
            max_size: 5,
        };
        let all = keys(7);
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let req = PageRequest::new(&limits, None, after.clone()).unwrap();
            let (page, info) = req.slice(&all);
            seen.extend_from_slice(&all[page]);
            if !info.has_next_page {
                break;
            }
            after = info.end_cursor;
        }
        assert_eq!(seen, all);
    }

    #[test]
    fn bad_page_arguments_are_refused() {
        let limits = PageLimits {
            default_size: 3,
            max_size: 5,
        };
        assert!(PageRequest::new(&limits, Some(6), None).is_err());
        assert!(PageRequest::new(&limits, Some(-1), None).is_err());
        assert!(PageRequest::new(&limits, None, Some("%%%".into())).is_err());
        assert_eq!(
            PageRequest::new(&limits, Some(0), None)
                .unwrap()
                .slice(&keys(2))
                .0
                .len(),
            0
        );
    }
}
