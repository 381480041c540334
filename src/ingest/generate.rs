//! A deterministic synthetic data set in the import format, for benchmarks at scale. Per unit
//! of scale: 100 people with posts, 500 agreements (2-4 parties, provisions), 1,000 relations,
//! 1,000 missions, 1,000 events and 10,000 statements, each citing a sentence of a generated
//! source article. Country popularity is skewed (Zipf-like), as in real news: a few countries
//! appear in most facts. It streams: memory stays flat whatever the scale.

use crate::domain::{
    EventKind, MissionKind, MissionStatus, RelationKind, RelationStatus, StatementMedium,
};
use crate::facts::*;
use std::io::Write;

/// Facts per generated source article.
const FACTS_PER_SOURCE: usize = 10;

pub struct Plan {
    pub people: usize,
    pub agreements: usize,
    pub relations: usize,
    pub missions: usize,
    pub events: usize,
    pub statements: usize,
}

impl Plan {
    pub fn for_scale(scale: f64) -> Plan {
        let n = |per_unit: f64| ((per_unit * scale).round() as usize).max(1);
        Plan {
            people: n(100.0),
            agreements: n(500.0),
            relations: n(1000.0),
            missions: n(1000.0),
            events: n(1000.0),
            statements: n(10_000.0),
        }
    }

    /// Records written: facts plus their source articles.
    pub fn records(&self) -> usize {
        let facts = [
            self.people,
            self.agreements,
            self.relations,
            self.missions,
            self.events,
            self.statements,
        ];
        facts.iter().map(|n| n + n.div_ceil(FACTS_PER_SOURCE)).sum()
    }
}

/// Countries by popularity: rank r is drawn with weight 1/(r+1).
struct Countries {
    codes: Vec<String>,
    cumulative: Vec<f64>,
}

impl Countries {
    fn new(mut codes: Vec<String>, rng: &mut fastrand::Rng) -> Self {
        codes.sort();
        rng.shuffle(&mut codes);
        let mut total = 0.0;
        let cumulative = (0..codes.len())
            .map(|r| {
                total += 1.0 / (r as f64 + 1.0);
                total
            })
            .collect();
        Countries { codes, cumulative }
    }

    fn pick(&self, rng: &mut fastrand::Rng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.f64() * total;
        let i = self
            .cumulative
            .partition_point(|c| *c < x)
            .min(self.codes.len() - 1);
        &self.codes[i]
    }

    /// `n` different countries.
    fn pick_distinct(&self, rng: &mut fastrand::Rng, n: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(n);
        while out.len() < n.min(self.codes.len()) {
            let c = self.pick(rng).to_string();
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }
}

fn cite(source: &str, sentence: &str) -> CitationRecord {
    CitationRecord {
        source: source.to_string(),
        excerpt: sentence.to_string(),
        start: None,
    }
}

fn date(rng: &mut fastrand::Rng) -> String {
    format!(
        "{}-{:02}-{:02}",
        rng.u32(1995..2026),
        rng.u32(1..13),
        rng.u32(1..29)
    )
}

const TITLES: &[&str] = &[
    "Foreign Minister",
    "Prime Minister",
    "President",
    "Ambassador",
    "Deputy Foreign Minister",
];
const VERBS: &[&str] = &[
    "open an embassy",
    "lift visa requirements",
    "expand trade",
    "cooperate on energy",
    "exchange students",
];
const WORDS: &[&str] = &[
    "partnership",
    "dialogue",
    "stability",
    "trade",
    "security",
    "friendship",
    "cooperation",
    "peace",
    "growth",
    "trust",
];

/// Writes the data set; `country_codes` are the countries the facts may name.
pub fn generate(
    scale: f64,
    seed: u64,
    country_codes: Vec<String>,
    out: &mut impl Write,
) -> std::io::Result<Plan> {
    let plan = Plan::for_scale(scale);
    let mut rng = fastrand::Rng::with_seed(seed);
    let countries = Countries::new(country_codes, &mut rng);
    let mut source_no = 0usize;

    // Facts come in chunks, each chunk with the source article its sentences make up; kinds
    // come in an order where every reference points back.
    let mut emit = |rng: &mut fastrand::Rng,
                    count: usize,
                    out: &mut dyn Write,
                    make: &mut dyn FnMut(&mut fastrand::Rng, usize, &str) -> (String, Record)|
     -> std::io::Result<()> {
        let mut i = 0;
        while i < count {
            source_no += 1;
            let key = format!("gen-source-{source_no}");
            let chunk: Vec<(String, Record)> = (i..(i + FACTS_PER_SOURCE).min(count))
                .map(|n| make(rng, n, &key))
                .collect();
            let text = chunk
                .iter()
                .map(|(sentence, _)| sentence.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let source = Record::Source(SourceRecord {
                key: key.clone(),
                title: format!("Generated dispatch {source_no}"),
                publisher: Some("Synthetic Wire".into()),
                author: None,
                url: None,
                published: Some(date(rng)),
                text: Some(text),
                file: None,
                facts: Vec::new(),
                note: None,
            });
            for record in std::iter::once(&source).chain(chunk.iter().map(|(_, r)| r)) {
                serde_json::to_writer(&mut *out, record)?;
                out.write_all(b"\n")?;
            }
            i += FACTS_PER_SOURCE;
        }
        Ok(())
    };

    emit(&mut rng, plan.people, out, &mut |rng, n, source| {
        let country = countries.pick(rng).to_string();
        let title = TITLES[rng.usize(..TITLES.len())];
        let name = format!("Person {n}");
        let sentence = format!("{name} serves as {title} of country {country} (record {n}).");
        let record = Record::Person(PersonRecord {
            key: format!("gen-person-{n}"),
            name,
            aliases: vec![format!("P{n}")],
            posts: vec![PostRecord {
                title: title.into(),
                country: Some(country),
                organization: None,
                start: Some(date(rng)),
                end: None,
                sources: vec![cite(source, &sentence)],
            }],
            note: None,
        });
        (sentence, record)
    })?;

    emit(&mut rng, plan.agreements, out, &mut |rng, n, source| {
        let how_many = rng.usize(2..5);
        let parties = countries.pick_distinct(rng, how_many);
        let title = format!("Agreement {n}");
        let sentence = format!("{} signed {title} (record {n}).", parties.join(" and "));
        let provisions = (0..rng.usize(1..4))
            .map(|p| {
                let actor = parties[p % parties.len()].clone();
                ProvisionRecord {
                    text: format!("{actor} will {}.", VERBS[rng.usize(..VERBS.len())]),
                    actor: Some(actor),
                    sources: vec![cite(source, &sentence)],
                }
            })
            .collect();
        let signatory = format!("gen-person-{}", rng.usize(..plan.people));
        let record = Record::Agreement(AgreementRecord {
            key: format!("gen-agreement-{n}"),
            title,
            aliases: Vec::new(),
            signed_on: Some(date(rng)),
            place: None,
            parties: parties.clone(),
            signatories: vec![SignatoryRecord {
                person: signatory,
                country: Some(parties[0].clone()),
            }],
            brokers: Vec::new(),
            provisions,
            sources: vec![cite(source, &sentence)],
            note: None,
        });
        (sentence, record)
    })?;

    emit(&mut rng, plan.events, out, &mut |rng, n, source| {
        let involved = countries.pick_distinct(rng, 2);
        let title = format!("Meeting {n} of {} and {}", involved[0], involved[1]);
        let sentence = format!("{title} was held (record {n}).");
        let record = Record::Event(EventRecord {
            key: format!("gen-event-{n}"),
            kind: Named(EventKind::Meeting),
            title,
            date: Some(date(rng)),
            place: None,
            participants: vec![format!("gen-person-{}", rng.usize(..plan.people))],
            countries: involved,
            agreement: Some(format!("gen-agreement-{}", rng.usize(..plan.agreements))),
            sources: vec![cite(source, &sentence)],
            note: None,
        });
        (sentence, record)
    })?;

    emit(&mut rng, plan.relations, out, &mut |rng, n, source| {
        let pair = countries.pick_distinct(rng, 2);
        let recognition = rng.u8(..4) == 0;
        let sentence = format!(
            "{} and {} {} (record {n}).",
            pair[0],
            pair[1],
            if recognition {
                "recognized each other"
            } else {
                "established diplomatic relations"
            }
        );
        let record = Record::Relation(RelationRecord {
            key: format!("gen-relation-{n}"),
            kind: Named(if recognition {
                RelationKind::Recognition
            } else {
                RelationKind::DiplomaticRelations
            }),
            subject: pair[0].clone(),
            object: pair[1].clone(),
            agreement: Some(format!("gen-agreement-{}", rng.usize(..plan.agreements))),
            event: None,
            history: vec![StatusChangeRecord {
                status: Named(RelationStatus::Established),
                date: Some(date(rng)),
                sources: vec![cite(source, &sentence)],
            }],
            note: None,
        });
        (sentence, record)
    })?;

    emit(&mut rng, plan.missions, out, &mut |rng, n, source| {
        let pair = countries.pick_distinct(rng, 2);
        let city = format!("City {}", rng.u32(1..500));
        let sentence = format!(
            "{} keeps an embassy in {city}, {} (record {n}).",
            pair[0], pair[1]
        );
        let record = Record::Mission(MissionRecord {
            key: format!("gen-mission-{n}"),
            kind: Named(MissionKind::Embassy),
            sending_country: pair[0].clone(),
            host_country: pair[1].clone(),
            city: Some(city),
            status: Named(MissionStatus::Open),
            opened: Some(date(rng)),
            expected_opening: None,
            closed: None,
            sources: vec![cite(source, &sentence)],
            note: None,
        });
        (sentence, record)
    })?;

    emit(&mut rng, plan.statements, out, &mut |rng, n, source| {
        let about = countries.pick(rng).to_string();
        let words: Vec<&str> = (0..6).map(|_| WORDS[rng.usize(..WORDS.len())]).collect();
        let quote = format!("We value {} with {about}, statement {n}.", words.join(" "));
        let speaker = format!("gen-person-{}", rng.usize(..plan.people));
        let sentence = format!(
            "Person {} said: \"{quote}\"",
            speaker.trim_start_matches("gen-person-")
        );
        let record = Record::Statement(StatementRecord {
            key: format!("gen-statement-{n}"),
            text: quote,
            direct: true,
            speaker: Some(SpeakerRecord {
                person: Some(speaker),
                organization: None,
            }),
            date: Some(date(rng)),
            medium: Named(StatementMedium::Speech),
            event: Some(format!("gen-event-{}", rng.usize(..plan.events))),
            about: vec![format!("country:{about}")],
            source: cite(source, &sentence),
            note: None,
        });
        (sentence, record)
    })?;
    out.flush()?;
    Ok(plan)
}
