//! Organizations named in a text: those the store holds and those of a dictionary that users
//! extend with data, not code (`data/extract/organizations.json`, and files of the same shape),
//! by name or alias; and, by rule, a country's foreign ministry ("the Israeli foreign ministry",
//! "Israel's Foreign Ministry"), which needs no entry per country.

use super::article::Article;
use super::countries::{CountryMention, Naming};
use super::dictionary::{Dictionary, Entries};
use super::ExtractError;
use crate::domain::{Country, Organization, OrganizationKind};
use serde::Deserialize;
use std::ops::Range;

/// An organization extraction knows of: one the store holds, or a dictionary entry.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownOrganization {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// As the API and the dataset name it: `INTERGOVERNMENTAL`, `NON_STATE_ARMED_GROUP`...
    #[serde(deserialize_with = "kind_by_name")]
    pub kind: OrganizationKind,
    #[serde(default)]
    pub country: Option<String>,
    /// Whether the store holds it (a dictionary entry would be created).
    #[serde(skip)]
    pub stored: bool,
}

impl From<&Organization> for KnownOrganization {
    fn from(o: &Organization) -> Self {
        KnownOrganization {
            key: o.key.clone(),
            name: o.name.clone(),
            aliases: o.aliases.clone(),
            kind: o.kind,
            country: o.country.clone(),
            stored: true,
        }
    }
}

fn kind_by_name<'de, D: serde::Deserializer<'de>>(de: D) -> Result<OrganizationKind, D::Error> {
    let name = String::deserialize(de)?;
    name.parse().map_err(serde::de::Error::custom)
}

/// The dictionary compiled into the binary.
pub fn builtin_dictionary() -> Result<Vec<KnownOrganization>, ExtractError> {
    parse_dictionary(
        "data/extract/organizations.json",
        include_str!("../../data/extract/organizations.json"),
    )
}

/// A dictionary file: a JSON list of `{key, name, aliases, kind, country}`.
pub fn parse_dictionary(file: &str, json: &str) -> Result<Vec<KnownOrganization>, ExtractError> {
    serde_json::from_str(json).map_err(|e| ExtractError::DictionaryFile {
        file: file.to_string(),
        message: e.to_string(),
    })
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrganizationMention {
    pub organization: KnownOrganization,
    /// Bytes of the article's text.
    pub span: Range<usize>,
}

pub struct OrganizationMatcher {
    known: Vec<KnownOrganization>,
    /// Acronyms ("EU", "NATO") as written; other names in any letter case.
    acronyms: Dictionary<usize>,
    names: Dictionary<usize>,
    /// Country names by code, to name a foreign ministry the store does not hold.
    country_names: std::collections::HashMap<String, String>,
}

impl OrganizationMatcher {
    /// `stored` are the store's organizations; a dictionary entry with the same key, or one of
    /// their names, gives way to them.
    pub fn new(
        stored: &[Organization],
        dictionary: Vec<KnownOrganization>,
        countries: &[Country],
    ) -> Result<OrganizationMatcher, ExtractError> {
        let mut known: Vec<KnownOrganization> =
            stored.iter().map(KnownOrganization::from).collect();
        let stored_names: std::collections::HashSet<String> = known
            .iter()
            .flat_map(|o| std::iter::once(&o.name).chain(&o.aliases))
            .map(|n| n.to_lowercase())
            .collect();
        for entry in dictionary {
            let named_by_store = std::iter::once(&entry.name)
                .chain(&entry.aliases)
                .any(|n| stored_names.contains(&n.to_lowercase()));
            if !named_by_store && !known.iter().any(|o| o.key == entry.key) {
                known.push(entry);
            }
        }
        let (mut acronyms, mut names) = (Entries::exact(), Entries::any_case());
        for (at, organization) in known.iter().enumerate() {
            for name in std::iter::once(&organization.name).chain(&organization.aliases) {
                match name.chars().any(char::is_lowercase) {
                    true => names.add(name, at),
                    false => acronyms.add(name, at),
                }
            }
        }
        Ok(OrganizationMatcher {
            known,
            acronyms: acronyms.build()?,
            names: names.build()?,
            country_names: countries
                .iter()
                .map(|c| (c.code.clone(), c.name.clone()))
                .collect(),
        })
    }

    /// Every organization the body names unambiguously, in text order; `countries` are the
    /// article's country mentions, for the foreign ministries they introduce.
    pub fn mentions(
        &self,
        article: &Article,
        countries: &[CountryMention],
    ) -> Vec<OrganizationMention> {
        let text = &article.text;
        let body = article.body_start..text.len();
        let mut found: Vec<OrganizationMention> = Vec::new();
        let dictionaries = [&self.acronyms, &self.names];
        for (span, named) in dictionaries.iter().flat_map(|d| d.find(text, body.clone())) {
            let [at] = named else {
                continue;
            };
            let organization = &self.known[*at];
            if organization.kind == OrganizationKind::Media && is_credit(text, &span) {
                continue;
            }
            found.push(OrganizationMention {
                organization: organization.clone(),
                span,
            });
        }
        found.extend(
            countries
                .iter()
                .filter_map(|c| self.foreign_ministry(text, c)),
        );
        // Where two overlap, the longer wins ("UN Security Council" over "UN").
        found.sort_by_key(|m| (m.span.start, std::cmp::Reverse(m.span.end)));
        let mut kept: Vec<OrganizationMention> = Vec::new();
        for mention in found {
            if kept
                .last()
                .is_none_or(|last| mention.span.start >= last.span.end)
            {
                kept.push(mention);
            }
        }
        kept
    }

    /// "Israeli foreign ministry", "Israel's Foreign Ministry", "Kosovo Ministry of Foreign
    /// Affairs": the country's foreign ministry, the store's own if it holds one.
    fn foreign_ministry(
        &self,
        text: &str,
        country: &CountryMention,
    ) -> Option<OrganizationMention> {
        if country.naming == Naming::Capital {
            return None;
        }
        let after = &text[country.span.end..];
        let rest = after
            .strip_prefix("'s")
            .or_else(|| after.strip_prefix("’s"))
            .unwrap_or(after);
        let rest_trimmed = rest.trim_start_matches(' ');
        let lowered = rest_trimmed
            .get(..30.min(rest_trimmed.len()))
            .unwrap_or(rest_trimmed)
            .to_lowercase();
        let phrase = [
            "foreign ministry",
            "ministry of foreign affairs",
            "foreign affairs ministry",
        ]
        .into_iter()
        .find(|p| lowered.starts_with(p))?;
        let end = text.len() - rest_trimmed.len() + phrase.len();
        // `get`: a letter whose lower case has another length ('İ') would put `end` inside a
        // character.
        if text
            .get(end..)?
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric)
        {
            return None;
        }
        let stored = self.known.iter().find(|o| {
            o.stored
                && o.kind == OrganizationKind::GovernmentBody
                && o.country.as_deref() == Some(country.code.as_str())
                && std::iter::once(&o.name)
                    .chain(&o.aliases)
                    .any(|n| n.to_lowercase().contains("foreign"))
        });
        let organization = match stored {
            Some(o) => o.clone(),
            None => {
                let name = self
                    .country_names
                    .get(&country.code)
                    .map_or(country.code.as_str(), String::as_str);
                KnownOrganization {
                    key: format!("{}-foreign-ministry", country.code.to_lowercase()),
                    name: format!("Ministry of Foreign Affairs of {name}"),
                    aliases: Vec::new(),
                    kind: OrganizationKind::GovernmentBody,
                    country: Some(country.code.clone()),
                    stored: false,
                }
            }
        };
        Some(OrganizationMention {
            organization,
            span: country.span.start..end,
        })
    }
}

/// Whether a news agency's name is the article's credit, "(Reuters)", rather than a mention.
fn is_credit(text: &str, span: &Range<usize>) -> bool {
    text[..span.start].ends_with('(') && text[span.end..].starts_with(')')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(String, bool, String)> {
        let graph = crate::extract::testing::graph();
        crate::extract::testing::extractor(&graph, true)
            .extract(&Article::plain(text.into(), None))
            .organizations
            .into_iter()
            .map(|m| {
                (
                    m.organization.key,
                    m.organization.stored,
                    text[m.span].to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn the_stores_organizations_come_before_the_dictionarys() {
        assert_eq!(
            found("State Department spokesman Ned Price and the EU, not eu or Hezbollah."),
            [
                (
                    "us-state-department".into(),
                    true,
                    "State Department".into()
                ),
                ("european-union".into(), true, "EU".into()),
                ("hezbollah".into(), true, "Hezbollah".into()),
            ]
        );
        assert_eq!(
            found("NATO and the UN Security Council; the Taliban"),
            [
                ("nato".into(), false, "NATO".into()),
                (
                    "un-security-council".into(),
                    false,
                    "UN Security Council".into()
                ),
                ("taliban".into(), false, "Taliban".into()),
            ]
        );
    }

    #[test]
    fn a_countrys_foreign_ministry_is_found_by_rule() {
        assert_eq!(
            found("the Israeli foreign ministry said; Israel’s Foreign Ministry; Serbia's foreign ministry"),
            [
                ("israel-foreign-ministry".into(), true, "Israeli foreign ministry".into()),
                ("israel-foreign-ministry".into(), true, "Israel’s Foreign Ministry".into()),
                ("rs-foreign-ministry".into(), false, "Serbia's foreign ministry".into()),
            ]
        );
    }

    #[test]
    fn a_news_agencys_credit_is_not_a_mention() {
        assert_eq!(
            found("JERUSALEM (Reuters) – as Reuters reported"),
            [("reuters".into(), false, "Reuters".into())]
        );
    }

    /// Every organization a curated fact citing a seed article refers to, or that cites it
    /// itself, is named in that article.
    #[test]
    fn the_seed_articles_name_every_organization_their_curated_facts_refer_to() {
        use crate::domain::NodeKind;
        use std::collections::BTreeSet;
        let graph = crate::extract::testing::graph();
        let extractor = crate::extract::testing::extractor(&graph, true);
        for source in &graph.sources {
            let expected =
                crate::extract::testing::referred(&graph, &source.key, NodeKind::Organization, &[]);
            let found: BTreeSet<String> = extractor
                .extract(&Article::plain(source.text.clone(), None))
                .organizations
                .into_iter()
                .map(|m| m.organization.key)
                .collect();
            crate::extract::testing::assert_all_found(&source.key, &expected, &found);
        }
    }

    #[test]
    fn a_dictionary_file_that_is_not_the_shape_is_an_error_naming_it() {
        let error = parse_dictionary("extra.json", r#"[{"name": "X"}]"#).unwrap_err();
        assert!(error.to_string().contains("extra.json"), "{error}");
    }
}
