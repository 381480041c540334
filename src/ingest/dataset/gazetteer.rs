//! Countries: the table derived from world-countries (ODbL) plus the documented overlay.

use super::DatasetError;
use crate::domain::Country;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Row {
    code: String,
    alpha3: String,
    name: String,
    official: Option<String>,
    aliases: Vec<String>,
    demonyms: Vec<String>,
    capital: Option<String>,
    region: Option<String>,
    subregion: Option<String>,
    un_member: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Overlay {
    code: String,
    #[allow(dead_code)]
    why: String,
    alpha3: Option<String>,
    name: Option<String>,
    capital: Option<String>,
    #[serde(default)]
    add_aliases: Vec<String>,
    #[serde(default)]
    add_demonyms: Vec<String>,
}

pub fn parse(table: &str, overlay: &str) -> Result<Vec<Country>, DatasetError> {
    let rows: Vec<Row> = serde_json::from_str(table)
        .map_err(|e| DatasetError::parse("gazetteer/countries.json", e))?;
    let overlays: Vec<Overlay> = serde_json::from_str(overlay)
        .map_err(|e| DatasetError::parse("gazetteer/overlay.json", e))?;
    let mut countries: Vec<Country> = rows
        .into_iter()
        .map(|r| Country {
            code: r.code,
            alpha3: r.alpha3,
            name: r.name,
            official_name: r.official,
            aliases: r.aliases,
            demonyms: r.demonyms,
            capital: r.capital,
            region: r.region,
            subregion: r.subregion,
            un_member: r.un_member,
        })
        .collect();
    for o in overlays {
        let country = countries
            .iter_mut()
            .find(|c| c.code == o.code)
            .ok_or_else(|| {
                DatasetError::fact(
                    "gazetteer/overlay.json",
                    &o.code,
                    "no such country in the table",
                )
            })?;
        if let Some(alpha3) = o.alpha3 {
            country.alpha3 = alpha3;
        }
        if let Some(name) = o.name {
            country.name = name;
        }
        if let Some(capital) = o.capital {
            country.capital = Some(capital);
        }
        for alias in o.add_aliases {
            if !country.aliases.contains(&alias) {
                country.aliases.push(alias);
            }
        }
        for demonym in o.add_demonyms {
            if !country.demonyms.contains(&demonym) {
                country.demonyms.push(demonym);
            }
        }
    }
    Ok(countries)
}
