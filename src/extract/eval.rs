//! How good extraction is, measured: the findings for an article against the facts expected of
//! it (`NAME.expected.json` beside `NAME.txt`), as precision and recall per kind of finding.
//! A proposal is right when an expected item matches it; an expected item is found when a
//! proposal matches it.

use super::article::Article;
use super::{Extraction, Extractor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The facts an article states, as a person reading it would list them (see
/// `tests/articles/README.md`). Kinds extraction does not propose yet are read and ignored.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Expected {
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub organizations: Vec<ExpectedOrganization>,
    #[serde(default)]
    pub people: Vec<ExpectedPerson>,
    #[serde(default)]
    pub quotes: Vec<ExpectedQuote>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ExpectedOrganization {
    pub name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ExpectedPerson {
    pub name: String,
    #[serde(default)]
    pub posts: Vec<ExpectedPost>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ExpectedPost {
    pub title: String,
    pub country: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ExpectedQuote {
    /// The quote's first words.
    pub starts: String,
    pub speaker: Option<String>,
    pub direct: bool,
}

/// Counts for one kind of finding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub proposed: usize,
    pub right: usize,
    pub expected: usize,
    pub found: usize,
}

impl Tally {
    pub fn precision(&self) -> f64 {
        ratio(self.right, self.proposed)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.found, self.expected)
    }
    fn add(&mut self, other: Tally) {
        self.proposed += other.proposed;
        self.right += other.right;
        self.expected += other.expected;
        self.found += other.found;
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    match whole {
        0 => 1.0,
        _ => part as f64 / whole as f64,
    }
}

/// Tallies per kind of finding, in a fixed order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scores(pub BTreeMap<&'static str, Tally>);

impl Scores {
    pub fn add(&mut self, other: &Scores) {
        for (kind, tally) in &other.0 {
            self.0.entry(kind).or_default().add(*tally);
        }
    }

    /// A Markdown table: kind, precision, recall, and the counts behind them.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| finding | precision | recall | proposed | right | expected | found |\n| --- | --- | --- | --- | --- | --- | --- |\n",
        );
        for (kind, t) in &self.0 {
            out.push_str(&format!(
                "| {kind} | {:.2} | {:.2} | {} | {} | {} | {} |\n",
                t.precision(),
                t.recall(),
                t.proposed,
                t.right,
                t.expected,
                t.found
            ));
        }
        out
    }
}

/// Counts the proposals an expected item matches and the expected items a proposal matches.
fn tally<P, E>(proposed: &[P], expected: &[E], matches: impl Fn(&P, &E) -> bool) -> Tally {
    Tally {
        proposed: proposed.len(),
        right: proposed
            .iter()
            .filter(|p| expected.iter().any(|e| matches(p, e)))
            .count(),
        expected: expected.len(),
        found: expected
            .iter()
            .filter(|e| proposed.iter().any(|p| matches(p, e)))
            .count(),
    }
}

fn same(a: &str, b: &str) -> bool {
    normalize(a) == normalize(b)
}

/// Lower case, straight quotes, one space between words.
fn normalize(text: &str) -> String {
    text.replace(['’', '‘'], "'")
        .replace(['“', '”'], "\"")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Scores one article's extraction against what is expected of it.
pub fn score(text: &str, found: &Extraction, expected: &Expected) -> Scores {
    let mut scores = Scores::default();
    let dedup = |mut items: Vec<String>| {
        items.sort();
        items.dedup();
        items
    };
    let countries = dedup(found.countries.iter().map(|c| c.code.clone()).collect());
    scores.0.insert(
        "countries",
        tally(&countries, &expected.countries, |p, e| p == e),
    );
    // An organization is named by its name, an alias, or the words the text uses.
    let mut organizations: Vec<Vec<String>> = Vec::new();
    for mention in &found.organizations {
        let o = &mention.organization;
        let names: Vec<String> = std::iter::once(&o.name)
            .chain(&o.aliases)
            .cloned()
            .chain(std::iter::once(text[mention.span.clone()].to_string()))
            .collect();
        match organizations.iter_mut().find(|known| known[0] == o.name) {
            Some(known) => known.extend(names),
            None => organizations.push(names),
        }
    }
    scores.0.insert(
        "organizations",
        tally(&organizations, &expected.organizations, |names, e| {
            names.iter().any(|n| same(n, &e.name))
        }),
    );
    let people = dedup(found.people.iter().map(|p| p.person.name.clone()).collect());
    let expected_people: Vec<&str> = expected.people.iter().map(|p| p.name.as_str()).collect();
    scores.0.insert(
        "people",
        tally(&people, &expected_people, |p, e| same(p, e)),
    );
    let mut posts: Vec<(String, String, Option<String>)> = found
        .people
        .iter()
        .filter_map(|m| {
            let post = m.post.as_ref()?;
            Some((
                m.person.name.clone(),
                post.title.clone(),
                post.country.clone(),
            ))
        })
        .collect();
    posts.sort();
    posts.dedup();
    let expected_posts: Vec<(&str, &ExpectedPost)> = expected
        .people
        .iter()
        .flat_map(|p| p.posts.iter().map(move |post| (p.name.as_str(), post)))
        .collect();
    scores.0.insert(
        "posts",
        tally(
            &posts,
            &expected_posts,
            |(name, title, country), (e_name, e)| {
                let (title, e_title) = (normalize(title), normalize(&e.title));
                same(name, e_name)
                    && *country == e.country
                    && (title.contains(&e_title) || e_title.contains(&title))
            },
        ),
    );
    let quotes: Vec<(String, Option<String>)> = found
        .quotes
        .iter()
        .map(|q| {
            (
                text[q.quoted.clone()].to_string(),
                q.speaker.as_ref().map(|s| s.name.clone()),
            )
        })
        .collect();
    let expected_quotes: Vec<&ExpectedQuote> =
        expected.quotes.iter().filter(|q| q.direct).collect();
    scores.0.insert(
        "direct quotes with their speaker",
        tally(&quotes, &expected_quotes, |(quoted, speaker), e| {
            normalize(quoted).starts_with(&normalize(&e.starts))
                && match (speaker, &e.speaker) {
                    (Some(s), Some(e)) => same(s, e),
                    (None, None) => true,
                    _ => false,
                }
        }),
    );
    scores
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not expected facts of this shape: {message}")]
    Expected { path: String, message: String },
    #[error("{0}: no article (NAME.txt beside NAME.expected.json)")]
    Empty(String),
}

/// The articles of `dir` that have expected facts: (name, its text, what is expected).
pub fn articles(dir: &Path) -> Result<Vec<(String, String, Expected)>, EvalError> {
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).map_err(|source| EvalError::Read {
            path: path.display().to_string(),
            source,
        })
    };
    let entries = std::fs::read_dir(dir).map_err(|source| EvalError::Read {
        path: dir.display().to_string(),
        source,
    })?;
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".expected.json"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for expected_path in names {
        let path_text = expected_path.to_string_lossy();
        let stem = path_text.trim_end_matches(".expected.json").to_string();
        let text = read(&PathBuf::from(format!("{stem}.txt")))?;
        let expected: Expected =
            serde_json::from_str(&read(&expected_path)?).map_err(|e| EvalError::Expected {
                path: expected_path.display().to_string(),
                message: e.to_string(),
            })?;
        let name = Path::new(&stem)
            .file_name()
            .map_or(stem.clone(), |n| n.to_string_lossy().to_string());
        out.push((name, text, expected));
    }
    if out.is_empty() {
        return Err(EvalError::Empty(dir.display().to_string()));
    }
    Ok(out)
}

/// Runs `extractor` over every article of `dir` and scores it: per article, and in all.
pub fn evaluate(
    extractor: &Extractor,
    dir: &Path,
) -> Result<(Vec<(String, Scores)>, Scores), EvalError> {
    let mut each = Vec::new();
    let mut all = Scores::default();
    for (name, text, expected) in articles(dir)? {
        let article = Article::plain(text, None);
        let scores = score(&article.text, &extractor.extract(&article), &expected);
        all.add(&scores);
        each.push((name, scores));
    }
    Ok((each, all))
}

/// How fast `extractor` reads the articles of `dir`, on this thread: words per second, over
/// passes through them all for at least `at_least`.
pub fn words_per_second(
    extractor: &Extractor,
    dir: &Path,
    at_least: std::time::Duration,
) -> Result<f64, EvalError> {
    let articles: Vec<Article> = articles(dir)?
        .into_iter()
        .map(|(_, text, _)| Article::plain(text, None))
        .collect();
    let words: usize = articles
        .iter()
        .map(|a| a.text.split_whitespace().count())
        .sum();
    let started = std::time::Instant::now();
    let mut passes = 0usize;
    while passes == 0 || started.elapsed() < at_least {
        for article in &articles {
            std::hint::black_box(extractor.extract(article));
        }
        passes += 1;
    }
    Ok((words * passes) as f64 / started.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::dataset::{load, DatasetFiles};

    fn extractor() -> Extractor {
        let graph = load(&DatasetFiles::builtin()).unwrap();
        Extractor::new(
            &graph.countries,
            &[],
            &[],
            super::super::organizations::builtin_dictionary().unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn proposals_and_expectations_are_matched_both_ways() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.txt"),
            "date 2021-02-01\n\nIsraeli Foreign Minister Gabi Ashkenazi met Serbian officials in \
             Paris, the EU said. \"We are very pleased today,\" said Ashkenazi.",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("a.expected.json"),
            r#"{"countries": ["IL", "RS", "XK"],
                "organizations": [{"name": "European Union"}],
                "people": [{"name": "Gabi Ashkenazi", "posts": [{"title": "Foreign Minister", "country": "IL"}]}],
                "quotes": [{"starts": "We are very pleased", "speaker": "Gabi Ashkenazi", "direct": true},
                           {"starts": "Something else", "speaker": null, "direct": false}],
                "relations": []}"#,
        )
        .unwrap();
        let (each, all) = evaluate(&extractor(), dir.path()).unwrap();
        assert_eq!(each.len(), 1);
        let tally = |proposed, right, expected, found| Tally {
            proposed,
            right,
            expected,
            found,
        };
        // IL and RS proposed and right; XK expected, not found. Paris is not the capital.
        let counts = [
            ("countries", tally(2, 2, 3, 2)),
            ("organizations", tally(1, 1, 1, 1)),
            ("people", tally(1, 1, 1, 1)),
            ("posts", tally(1, 1, 1, 1)),
            ("direct quotes with their speaker", tally(1, 1, 1, 1)),
        ];
        for (kind, expected) in counts {
            assert_eq!(all.0[kind], expected, "{kind}");
        }
        assert!(all
            .table()
            .contains("| countries | 1.00 | 0.67 | 2 | 2 | 3 | 2 |"));
    }

    /// The test set kept in the repository reads whole: every article has its expected facts.
    #[test]
    fn the_test_articles_read_with_their_expected_facts() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/articles");
        let articles = articles(&dir).unwrap();
        assert!(articles.len() >= 12, "{} articles", articles.len());
        let texts = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "txt")
            })
            .count();
        assert_eq!(texts, articles.len(), "an article without expected facts");
        for (name, text, _) in &articles {
            let article = Article::plain(text.clone(), None);
            assert!(article.published.is_some(), "{name}: no date line");
        }
    }

    #[test]
    fn a_dir_without_articles_or_with_a_bad_expectation_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(articles(dir.path()), Err(EvalError::Empty(_))));
        std::fs::write(dir.path().join("b.txt"), "text").unwrap();
        std::fs::write(dir.path().join("b.expected.json"), "[1]").unwrap();
        let error = articles(dir.path()).unwrap_err();
        assert!(error.to_string().contains("b.expected.json"), "{error}");
    }
}
