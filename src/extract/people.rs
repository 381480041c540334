//! People named in a text, with the posts the text gives them: a title between a country or
//! organization and a name ("Israeli Foreign Minister Gabi Ashkenazi", "State Department
//! spokesman Ned Price", "President Aleksandar Vučić of Serbia"), then every later mention of
//! someone introduced so, or held by the store, by name, alias or surname ("Ashkenazi",
//! "Haradinaj" for Meliza Haradinaj-Stublla).

use super::article::Article;
use super::countries::{CountryMention, Naming};
use super::dictionary::{Dictionary, Entries};
use super::organizations::OrganizationMention;
use super::ExtractError;
use crate::domain::Person;
use std::collections::HashMap;
use std::ops::Range;

/// Titles a post is named by, longest first where they overlap ("Deputy Prime Minister").
const TITLES: [&str; 44] = [
    "President",
    "Vice President",
    "Prime Minister",
    "Deputy Prime Minister",
    "First Deputy Prime Minister",
    "Premier",
    "Chancellor",
    "Foreign Minister",
    "Deputy Foreign Minister",
    "Minister of Foreign Affairs",
    "Foreign Affairs Minister",
    "Foreign Secretary",
    "Secretary of State",
    "Deputy Secretary of State",
    "Assistant Secretary of State",
    "Defense Minister",
    "Defence Minister",
    "Defense Secretary",
    "Interior Minister",
    "Finance Minister",
    "Trade Minister",
    "Minister",
    "Ambassador",
    "ambassador",
    "Envoy",
    "envoy",
    "Special Envoy",
    "special envoy",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "Spokesperson",
    "National Security Adviser",
    "national security adviser",
    "Senior Adviser",
    "senior adviser",
    "King",
    "Queen",
    "Crown Prince",
    "Emir",
    "Sultan",
    "Secretary-General",
    "Secretary General",
    "High Representative",
];

/// Someone extraction knows of: held by the store, or introduced by the article.
#[derive(Clone, Debug, PartialEq)]
pub struct KnownPerson {
    /// The store's key; None for someone the store does not hold.
    pub key: Option<String>,
    pub name: String,
}

/// A post the text gives someone, and the span that says so.
#[derive(Clone, Debug, PartialEq)]
pub struct PostMention {
    pub title: String,
    pub country: Option<String>,
    /// The text gives no country for the post (nor an organization): `country` is the first
    /// one its sentence names after the name, or else the last before it, if any.
    pub country_inferred: bool,
    /// The key of the organization, as `OrganizationMention` found it.
    pub organization: Option<String>,
    pub span: Range<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PersonMention {
    pub person: KnownPerson,
    /// The name as written, bytes of the article's text.
    pub span: Range<usize>,
    pub post: Option<PostMention>,
}

pub struct PersonMatcher {
    titles: Dictionary<()>,
    /// The same titles in any letter case, for a post given after the name ("Penny Wong,
    /// Australia's foreign minister,").
    titles_any_case: Dictionary<()>,
    /// The store's people by name and alias.
    known: Dictionary<usize>,
    people: Vec<KnownPerson>,
}

impl PersonMatcher {
    pub fn new(stored: &[Person]) -> Result<PersonMatcher, ExtractError> {
        let (mut titles, mut titles_any_case) = (Entries::exact(), Entries::any_case());
        for title in TITLES {
            titles.add(title, ());
            titles_any_case.add(title, ());
        }
        let mut known = Entries::exact();
        let mut people = Vec::new();
        for person in stored {
            for name in std::iter::once(&person.name).chain(&person.aliases) {
                known.add(name, people.len());
            }
            people.push(KnownPerson {
                key: Some(person.key.clone()),
                name: person.name.clone(),
            });
        }
        Ok(PersonMatcher {
            titles: titles.build()?,
            titles_any_case: titles_any_case.build()?,
            known: known.build()?,
            people,
        })
    }

    /// Everyone the body names, in text order: first the people a title introduces, then every
    /// mention by name, alias or surname of them or of the store's people.
    pub fn mentions(
        &self,
        article: &Article,
        countries: &[CountryMention],
        organizations: &[OrganizationMention],
    ) -> Vec<PersonMention> {
        let text = &article.text;
        let body = article.body_start..text.len();
        let sentences = article.sentences();
        let mut mentions: Vec<PersonMention> = Vec::new();
        for (title_span, _) in self.titles.find(text, body.clone()) {
            let Some(name_span) = name_after(text, title_span.end) else {
                continue;
            };
            let name = &text[name_span.clone()];
            let one_word = !name.contains(' ');
            let stored = self.stored_named(name);
            // One word after a title ("President Trump") names someone only if known.
            if one_word && stored.is_none() {
                continue;
            }
            let (post_start, title_start, country, organization) =
                qualifier_before(text, title_span.start, countries, organizations);
            let stated = country.or_else(|| country_after(text, name_span.end, countries));
            let country_inferred = stated.is_none() && organization.is_none();
            let country = match country_inferred {
                true => country_nearby(&sentences, &name_span, countries),
                false => stated,
            };
            let post = PostMention {
                title: text[title_start..title_span.end].to_string(),
                country,
                country_inferred,
                organization,
                span: post_start..name_span.end,
            };
            mentions.push(PersonMention {
                person: stored.unwrap_or_else(|| KnownPerson {
                    key: None,
                    name: name.to_string(),
                }),
                span: name_span,
                post: Some(post),
            });
        }
        for mention in self.appositives(text, body.clone(), countries, organizations) {
            if !mentions.iter().any(|m| overlap(&m.span, &mention.span)) {
                mentions.push(mention);
            }
        }
        // Names, aliases and surnames of the people introduced, for their later mentions.
        let mut introduced: HashMap<String, KnownPerson> = HashMap::new();
        for mention in &mentions {
            let name = &mention.person.name;
            introduced.insert(name.clone(), mention.person.clone());
            if let Some(surname) = name.rsplit(' ').next() {
                introduced.insert(surname.to_string(), mention.person.clone());
                if let Some((first_part, _)) = surname.split_once('-') {
                    introduced.insert(first_part.to_string(), mention.person.clone());
                }
            }
        }
        let taken: Vec<Range<usize>> = mentions.iter().map(|m| m.span.clone()).collect();
        for (span, named) in self.known.find(text, body.clone()) {
            if let [at] = named {
                if !taken.iter().any(|t| overlap(t, &span)) {
                    mentions.push(PersonMention {
                        person: self.people[*at].clone(),
                        span,
                        post: None,
                    });
                }
            }
        }
        let mut words = Entries::exact();
        for word in introduced.keys() {
            words.add(word, ());
        }
        if let Ok(words) = words.build() {
            let taken: Vec<Range<usize>> = mentions.iter().map(|m| m.span.clone()).collect();
            for (span, _) in words.find(text, body) {
                if taken.iter().any(|t| overlap(t, &span)) {
                    continue;
                }
                if let Some(person) = introduced.get(&text[span.clone()]) {
                    mentions.push(PersonMention {
                        person: person.clone(),
                        span,
                        post: None,
                    });
                }
            }
        }
        mentions.sort_by_key(|m| m.span.start);
        mentions
    }

    /// People whose post follows their name between commas: "Penny Wong, Australia's foreign
    /// minister,", "Sergei Lavrov, the Russian foreign minister,", "Ana Brnabić, prime minister
    /// of Serbia.". The name is two to four capitalized words right before the comma.
    fn appositives(
        &self,
        text: &str,
        body: Range<usize>,
        countries: &[CountryMention],
        organizations: &[OrganizationMention],
    ) -> Vec<PersonMention> {
        let mut found = Vec::new();
        for (title_span, _) in self.titles_any_case.find(text, body.clone()) {
            let after = &text[title_span.end..];
            let of_country = country_after(text, title_span.end, countries);
            if !after.starts_with([',', '.', ';']) && of_country.is_none() {
                continue;
            }
            // What qualifies the title: a country ("Australia's", "the Russian") or an
            // organization, right before it.
            let before_title = text[..title_span.start].trim_end_matches(' ').len();
            let ends_at = |end: usize| {
                text.get(end..before_title)
                    .is_some_and(|rest| rest.is_empty() || rest == "'s" || rest == "’s")
            };
            let country = countries
                .iter()
                .find(|c| c.naming != Naming::Capital && ends_at(c.span.end));
            let organization = organizations.iter().find(|o| ends_at(o.span.end));
            let qualifier_start = country
                .map(|c| c.span.start)
                .or(organization.map(|o| o.span.start))
                .unwrap_or(title_span.start);
            let lead = text[..qualifier_start].trim_end_matches(' ');
            let lead = lead
                .strip_suffix(" the")
                .or_else(|| lead.strip_suffix(" The"))
                .unwrap_or(lead);
            let Some(before_comma) = lead.strip_suffix(',') else {
                continue;
            };
            let Some(name_span) = name_before(text, before_comma.len(), body.start) else {
                continue;
            };
            // "In New York, the president said": a place or a body is not a name.
            let named_otherwise = countries
                .iter()
                .map(|c| &c.span)
                .chain(organizations.iter().map(|o| &o.span));
            if named_otherwise
                .into_iter()
                .any(|span| overlap(span, &name_span))
            {
                continue;
            }
            let name = &text[name_span.clone()];
            found.push(PersonMention {
                person: self.stored_named(name).unwrap_or_else(|| KnownPerson {
                    key: None,
                    name: name.to_string(),
                }),
                post: Some(PostMention {
                    title: text[title_span.clone()].to_string(),
                    country: country
                        .map(|c| c.code.clone())
                        .or(of_country)
                        .or_else(|| organization.and_then(|o| o.organization.country.clone())),
                    country_inferred: false,
                    organization: organization.map(|o| o.organization.key.clone()),
                    span: name_span.start..title_span.end,
                }),
                span: name_span,
            });
        }
        found
    }

    /// The stored person with this name or alias, if exactly one.
    fn stored_named(&self, name: &str) -> Option<KnownPerson> {
        match self.known.find(name, 0..name.len()).as_slice() {
            [(span, [at])] if *span == (0..name.len()) => Some(self.people[*at].clone()),
            _ => None,
        }
    }
}

/// A name right after `at`: up to four capitalized words ("Gabi Ashkenazi", "Meliza
/// Haradinaj-Stublla", "Donald J. Trump"), ending at punctuation or the first other word.
fn name_after(text: &str, at: usize) -> Option<Range<usize>> {
    if !text[at..].starts_with(' ') {
        return None;
    }
    let start = at + 1;
    let (mut end, mut offset) = (start, start);
    for (count, word) in text[start..].split(' ').enumerate() {
        let core = word.trim_end_matches([',', '.', ';', ':', ')', '”', '"']);
        let core = core
            .strip_suffix("'s")
            .or_else(|| core.strip_suffix("’s"))
            .unwrap_or(core);
        let initial = core.len() == 1
            && core.chars().all(char::is_uppercase)
            && word[core.len()..].starts_with('.');
        let name_word = is_name_word(core);
        if count == 4 || !(name_word || initial) {
            break;
        }
        if name_word {
            end = offset + core.len();
        }
        if core.len() + usize::from(initial) < word.len() {
            break;
        }
        offset += word.len() + 1;
    }
    (end > start).then_some(start..end)
}

/// Capitalized words that open sentences, not names.
const NOT_NAMES: [&str; 22] = [
    "In",
    "On",
    "At",
    "The",
    "A",
    "An",
    "For",
    "But",
    "And",
    "After",
    "Before",
    "During",
    "Since",
    "When",
    "While",
    "Yesterday",
    "Today",
    "Meanwhile",
    "However",
    "Earlier",
    "Later",
    "Speaking",
];

/// Two to four capitalized words ending at `end` (after `floor`): a name before a comma.
fn name_before(text: &str, end: usize, floor: usize) -> Option<Range<usize>> {
    let mut start = end;
    let mut words = 0;
    for word in text[floor..end].rsplit(' ') {
        if words == 4 || !is_name_word(word) || NOT_NAMES.contains(&word) {
            break;
        }
        start -= word.len();
        words += 1;
        if start > floor {
            start -= 1;
        }
    }
    let start = if text[start..end].starts_with(' ') {
        start + 1
    } else {
        start
    };
    (words >= 2).then_some(start..end)
}

fn overlap(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// "Ashkenazi", "Haradinaj-Stublla", "Vučić", "O'Brien": a capital, then letters, at least one
/// in lower case.
fn is_name_word(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(char::is_uppercase)
        && word.chars().any(char::is_lowercase)
        && chars.all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '’'))
}

/// Where a post's wording starts before a title: the country or organization right before it
/// ("Israeli", "State Department", "US"), and up to two capitalized words between them that
/// belong to the title ("European Union External Affairs spokesman"). Returns (where the
/// post's span starts, where its title starts, country, organization).
fn qualifier_before(
    text: &str,
    title_start: usize,
    countries: &[CountryMention],
    organizations: &[OrganizationMention],
) -> (usize, usize, Option<String>, Option<String>) {
    let before = text[..title_start].trim_end_matches(' ').len();
    let between = |span: &Range<usize>| -> Option<usize> {
        if span.end > before {
            return None;
        }
        let words: Vec<&str> = text[span.end..before].split_whitespace().collect();
        let all_capitalized = words.iter().all(|w| is_name_word(w));
        (words.len() <= 2 && all_capitalized).then(|| match words.is_empty() {
            true => title_start,
            false => span.end + (text[span.end..].len() - text[span.end..].trim_start().len()),
        })
    };
    if let Some((org, starts)) = organizations
        .iter()
        .rev()
        .find_map(|o| between(&o.span).map(|starts| (o, starts)))
    {
        return (
            org.span.start,
            starts,
            org.organization.country.clone(),
            Some(org.organization.key.clone()),
        );
    }
    if let Some(country) = countries
        .iter()
        .rev()
        .find(|c| c.naming != Naming::Capital && c.span.end == before)
    {
        return (
            country.span.start,
            title_start,
            Some(country.code.clone()),
            None,
        );
    }
    (title_start, title_start, None, None)
}

/// For a post the text gives no country ("President Vjosa Osmani announced this milestone,
/// emphasizing Kosovo’s commitment"): the first country its sentence names after the name, or
/// else the last one before it.
fn country_nearby(
    sentences: &[Range<usize>],
    name: &Range<usize>,
    countries: &[CountryMention],
) -> Option<String> {
    let sentence = sentences
        .iter()
        .find(|s| s.start <= name.start && name.end <= s.end)?;
    let in_sentence = |c: &&CountryMention| {
        c.naming != Naming::Capital && sentence.start <= c.span.start && c.span.end <= sentence.end
    };
    countries
        .iter()
        .filter(in_sentence)
        .find(|c| c.span.start >= name.end)
        .or_else(|| {
            countries
                .iter()
                .filter(in_sentence)
                .rev()
                .find(|c| c.span.end <= name.start)
        })
        .map(|c| c.code.clone())
}

/// "President Aleksandar Vučić of Serbia": a country named right after the name.
fn country_after(text: &str, name_end: usize, countries: &[CountryMention]) -> Option<String> {
    let of = text[name_end..].strip_prefix(" of ")?;
    let at = text.len() - of.len();
    countries
        .iter()
        .find(|c| c.span.start == at && c.naming == Naming::Name)
        .map(|c| c.code.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Graph;
    use crate::ingest::dataset::{load, DatasetFiles};

    fn graph() -> Graph {
        load(&DatasetFiles::builtin()).unwrap()
    }

    fn mentions(graph: &Graph, people: &[Person], text: &str) -> Vec<PersonMention> {
        let with_store = !people.is_empty();
        crate::extract::testing::extractor(graph, with_store)
            .extract(&Article::plain(text.into(), None))
            .people
    }

    /// (key or name, name as written, post title, country, organization, post as written)
    type Seen = (
        String,
        String,
        Option<(String, Option<String>, Option<String>, String)>,
    );

    fn seen(text: &str, mentions: Vec<PersonMention>) -> Vec<Seen> {
        mentions
            .into_iter()
            .map(|m| {
                (
                    m.person.key.unwrap_or(m.person.name),
                    text[m.span].to_string(),
                    m.post
                        .map(|p| (p.title, p.country, p.organization, text[p.span].to_string())),
                )
            })
            .collect()
    }

    fn post(
        title: &str,
        country: Option<&str>,
        org: Option<&str>,
        said: &str,
    ) -> Option<(String, Option<String>, Option<String>, String)> {
        Some((
            title.into(),
            country.map(Into::into),
            org.map(Into::into),
            said.into(),
        ))
    }

    #[test]
    fn a_title_between_a_country_and_a_name_is_a_post_and_later_mentions_follow() {
        let graph = graph();
        let text =
            "Israeli Foreign Minister Gabi Ashkenazi said so. Ashkenazi said he had a request.";
        assert_eq!(
            seen(text, mentions(&graph, &graph.people, text)),
            [
                (
                    "gabi-ashkenazi".into(),
                    "Gabi Ashkenazi".into(),
                    post(
                        "Foreign Minister",
                        Some("IL"),
                        None,
                        "Israeli Foreign Minister Gabi Ashkenazi"
                    )
                ),
                ("gabi-ashkenazi".into(), "Ashkenazi".into(), None),
            ]
        );
    }

    #[test]
    fn someone_the_store_does_not_hold_is_followed_by_surname_and_its_first_part() {
        let graph = graph();
        let text = "Kosovo Foreign Minister Meliza Haradinaj-Stublla said that. \
                    Haradinaj-Stublla said more, and Haradinaj thanked him.";
        assert_eq!(
            seen(text, mentions(&graph, &[], text)),
            [
                (
                    "Meliza Haradinaj-Stublla".into(),
                    "Meliza Haradinaj-Stublla".into(),
                    post(
                        "Foreign Minister",
                        Some("XK"),
                        None,
                        "Kosovo Foreign Minister Meliza Haradinaj-Stublla"
                    )
                ),
                (
                    "Meliza Haradinaj-Stublla".into(),
                    "Haradinaj-Stublla".into(),
                    None
                ),
                ("Meliza Haradinaj-Stublla".into(), "Haradinaj".into(), None),
            ]
        );
    }

    #[test]
    fn an_organization_or_a_country_after_the_name_qualifies_the_post() {
        let graph = graph();
        let text =
            "State Department spokesman Ned Price hailed it; President Aleksandar Vučić of Serbia \
                    and former US President Donald Trump, with European Union External Affairs \
                    spokesman Peter Stano.";
        assert_eq!(
            seen(text, mentions(&graph, &[], text)),
            [
                (
                    "Ned Price".into(),
                    "Ned Price".into(),
                    post(
                        "spokesman",
                        Some("US"),
                        Some("us-state-department"),
                        "State Department spokesman Ned Price"
                    )
                ),
                (
                    "Aleksandar Vučić".into(),
                    "Aleksandar Vučić".into(),
                    post("President", Some("RS"), None, "President Aleksandar Vučić")
                ),
                (
                    "Donald Trump".into(),
                    "Donald Trump".into(),
                    post("President", Some("US"), None, "US President Donald Trump")
                ),
                (
                    "Peter Stano".into(),
                    "Peter Stano".into(),
                    post(
                        "External Affairs spokesman",
                        None,
                        Some("european-union"),
                        "European Union External Affairs spokesman Peter Stano"
                    )
                ),
            ]
        );
    }

    #[test]
    fn a_post_after_the_name_between_commas_is_a_post_too() {
        let graph = graph();
        let text = "Penny Wong, Australia's foreign minister, said so. Sergei Lavrov, the Russian \
                    foreign minister, agreed; Ana Brnabić, prime minister of Serbia. \
                    In New York, the president said nothing, and Kenya, the host, neither.";
        assert_eq!(
            seen(text, mentions(&graph, &[], text)),
            [
                (
                    "Penny Wong".into(),
                    "Penny Wong".into(),
                    post(
                        "foreign minister",
                        Some("AU"),
                        None,
                        "Penny Wong, Australia's foreign minister"
                    )
                ),
                (
                    "Sergei Lavrov".into(),
                    "Sergei Lavrov".into(),
                    post(
                        "foreign minister",
                        Some("RU"),
                        None,
                        "Sergei Lavrov, the Russian foreign minister"
                    )
                ),
                (
                    "Ana Brnabić".into(),
                    "Ana Brnabić".into(),
                    post(
                        "prime minister",
                        Some("RS"),
                        None,
                        "Ana Brnabić, prime minister"
                    )
                ),
            ]
        );
    }

    #[test]
    fn one_word_after_a_title_names_someone_only_if_known() {
        let graph = graph();
        let text = "President Trump spoke. President Smith did not.";
        let found = seen(text, mentions(&graph, &graph.people, text));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "donald-trump");
        assert!(mentions(&graph, &[], text).is_empty());
    }

    /// Everyone a curated fact citing a seed article holds a post by, or speaks, is found there,
    /// by key (the store holds them), and each post the curated data cites that article for is
    /// found with its country.
    #[test]
    fn the_seed_articles_name_their_curated_people_and_posts() {
        let graph = graph();
        for source in &graph.sources {
            let found = mentions(&graph, &graph.people, &source.text);
            for person in &graph.people {
                for post in &person.posts {
                    if !post.sources.iter().any(|c| c.source == source.key) {
                        continue;
                    }
                    let hit = found.iter().any(|m| {
                        m.person.key.as_deref() == Some(person.key.as_str())
                            && m.post.as_ref().is_some_and(|p| {
                                p.country == post.country
                                    && post.title.to_lowercase().contains(&p.title.to_lowercase())
                            })
                    });
                    assert!(
                        hit,
                        "{}: {} as {:?} not found in {found:#?}",
                        source.key, person.key, post.title
                    );
                }
            }
        }
    }
}
