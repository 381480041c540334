//! Dates a text gives, at the precision it gives them: absolute ("Sept. 4, 2020", "4 September
//! 2020", "September 2020", "in 2008", "2021-02-01") and relative to the publication date
//! ("Monday", "in September", "last year", "yesterday"). A day or month without a year is its
//! nearest occurrence to the publication date; a weekday is the last one on or before it,
//! unless the sentence speaks of the future ("will", "next Monday").

use super::article::Article;
use crate::domain::PartialDate;
use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;
use time::{Date, Month, Weekday};

#[derive(Clone, Debug, PartialEq)]
pub struct DateMention {
    /// Bytes of the article's text.
    pub span: Range<usize>,
    pub date: PartialDate,
    /// Worked out from the publication date, not written out.
    pub relative: bool,
}

const MONTH: &str = r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|December|Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept\.|Sep\.|Oct\.|Nov\.|Dec\.)";

static DATES: LazyLock<Regex> = LazyLock::new(|| {
    let patterns = [
        r"(?P<iso>\b\d{4}-\d{2}-\d{2}\b)".to_string(),
        format!(r"\b{MONTH} (?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:, (?P<year>\d{{4}})\b)?"),
        format!(r"\b(?P<day2>\d{{1,2}}) {}(?: (?P<year2>\d{{4}})\b)?", MONTH.replace("?P<month>", "?P<month2>")),
        format!(r"\b{}(?:,)? (?P<year3>\d{{4}})\b", MONTH.replace("?P<month>", "?P<month3>")),
        format!(r"\b(?:in|since|until|by|early|late|mid-) ?{}(?:,? (?P<year5>\d{{4}})\b)?", MONTH.replace("?P<month>", "?P<month4>")),
        r"\b(?:in|since|until|by|from|of) (?P<year4>(?:19|20)\d{2})\b".to_string(),
        r"\b(?P<next>next |last |this )?(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b".to_string(),
        r"\b(?P<near>yesterday|today|tomorrow|last year|this year|next year|last month|this month|next month)\b".to_string(),
    ];
    // The patterns are fixed: a failure here is a bug caught by every test that extracts.
    Regex::new(&patterns.join("|")).unwrap_or_else(|e| panic!("the date patterns: {e}"))
});

/// Every date the body gives that can be placed, in text order (a relative one needs the
/// publication date).
pub fn dates(article: &Article) -> Vec<DateMention> {
    let text = &article.text;
    let published = article.published.and_then(to_date);
    let body = &text[article.body_start..];
    let mut found = Vec::new();
    for captures in DATES.captures_iter(body) {
        let Some(whole) = captures.get(0) else {
            continue;
        };
        let span = article.body_start + whole.start()..article.body_start + whole.end();
        let get = |name: &str| captures.name(name).map(|m| m.as_str());
        let resolved = if let Some(iso) = get("iso") {
            iso.parse::<PartialDate>().ok().map(|d| (d, false))
        } else if let Some(month) = get("month").or(get("month2")) {
            let day = get("day")
                .or(get("day2"))
                .and_then(|d| d.parse::<u8>().ok());
            let year = get("year")
                .or(get("year2"))
                .and_then(|y| y.parse::<i32>().ok());
            month_number(month).and_then(|m| day_of(year, m, day?, published))
        } else if let Some(month) =
            get("month3").or(get("month4").filter(|_| get("year5").is_some()))
        {
            let year = get("year3")
                .or(get("year5"))
                .and_then(|y| y.parse::<i16>().ok());
            month_number(month).zip(year).map(|(m, year)| {
                (
                    PartialDate {
                        year,
                        month: Some(m as u8),
                        day: None,
                    },
                    false,
                )
            })
        } else if let Some(month) = get("month4") {
            month_number(month).and_then(|m| month_near(m, published?))
        } else if let Some(year) = get("year4") {
            year.parse().ok().map(|year| {
                (
                    PartialDate {
                        year,
                        month: None,
                        day: None,
                    },
                    false,
                )
            })
        } else if let Some(weekday) = get("weekday") {
            let future = get("next").is_some_and(|n| n == "next ")
                || sentence_speaks_of_the_future(body, whole.start());
            published.and_then(|p| weekday_near(weekday, future, p))
        } else if let Some(near) = get("near") {
            published.and_then(|p| near_date(near, p))
        } else {
            None
        };
        if let Some((date, relative)) = resolved {
            found.push(DateMention {
                span,
                date,
                relative,
            });
        }
    }
    found
}

fn to_date(date: PartialDate) -> Option<Date> {
    let month = Month::try_from(date.month?).ok()?;
    Date::from_calendar_date(date.year.into(), month, date.day?).ok()
}

fn from_date(date: Date) -> PartialDate {
    PartialDate {
        year: date.year() as i16,
        month: Some(date.month() as u8),
        day: Some(date.day()),
    }
}

fn month_number(name: &str) -> Option<Month> {
    let months = [
        Month::January,
        Month::February,
        Month::March,
        Month::April,
        Month::May,
        Month::June,
        Month::July,
        Month::August,
        Month::September,
        Month::October,
        Month::November,
        Month::December,
    ];
    let short = name.trim_end_matches('.');
    months
        .into_iter()
        .find(|m| m.to_string().starts_with(short) && short.len() >= 3)
}

/// A day of a month; without a year, its occurrence nearest the publication date.
fn day_of(
    year: Option<i32>,
    month: Month,
    day: u8,
    published: Option<Date>,
) -> Option<(PartialDate, bool)> {
    match (year, published) {
        (Some(year), _) => Date::from_calendar_date(year, month, day)
            .ok()
            .map(|d| (from_date(d), false)),
        (None, Some(published)) => {
            let year = published.year();
            (year - 1..=year + 1)
                .filter_map(|y| Date::from_calendar_date(y, month, day).ok())
                .min_by_key(|d| (*d - published).whole_days().abs())
                .map(|d| (from_date(d), true))
        }
        (None, None) => None,
    }
}

/// "in September": the nearest September to the publication date, the earlier on a tie.
fn month_near(month: Month, published: Date) -> Option<(PartialDate, bool)> {
    let at = published.year() * 12 + published.month() as i32 - 1;
    let target = month as i32 - 1;
    let candidates = (published.year() - 1..=published.year() + 1).map(|y| y * 12 + target);
    let nearest = candidates.min_by_key(|c| ((c - at).abs(), *c > at))?;
    Some((
        PartialDate {
            year: (nearest / 12) as i16,
            month: Some((nearest % 12 + 1) as u8),
            day: None,
        },
        true,
    ))
}

fn weekday_near(name: &str, future: bool, published: Date) -> Option<(PartialDate, bool)> {
    let weekday = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ]
    .into_iter()
    .find(|w| w.to_string() == name)?;
    let date = match (future, published.weekday() == weekday) {
        (false, true) => published,
        (false, false) => published.prev_occurrence(weekday),
        (true, _) => published.next_occurrence(weekday),
    };
    Some((from_date(date), true))
}

fn near_date(words: &str, published: Date) -> Option<(PartialDate, bool)> {
    let year = published.year() as i16;
    let month = published.month() as i32;
    let by_month = |shift: i32| {
        let at = year as i32 * 12 + month - 1 + shift;
        PartialDate {
            year: (at / 12) as i16,
            month: Some((at % 12 + 1) as u8),
            day: None,
        }
    };
    let by_year = |year: i16| PartialDate {
        year,
        month: None,
        day: None,
    };
    let date = match words {
        "yesterday" => from_date(published.previous_day()?),
        "today" => from_date(published),
        "tomorrow" => from_date(published.next_day()?),
        "last year" => by_year(year - 1),
        "this year" => by_year(year),
        "next year" => by_year(year + 1),
        "last month" => by_month(-1),
        "this month" => by_month(0),
        "next month" => by_month(1),
        _ => return None,
    };
    Some((date, true))
}

/// Whether the sentence holding byte `at` of `body` speaks of what is to come.
fn sentence_speaks_of_the_future(body: &str, at: usize) -> bool {
    let start = body[..at].rfind(['.', '\n']).map_or(0, |s| s + 1);
    let end = body[at..].find(['.', '\n']).map_or(body.len(), |e| at + e);
    let sentence = &body[start..end];
    [" will ", " is to ", " are to ", " plans to ", " scheduled "]
        .iter()
        .any(|w| sentence.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(published: &str, body: &str) -> Vec<(String, String, bool)> {
        let article = Article::plain(body.into(), Some(published.parse().unwrap()));
        dates(&article)
            .into_iter()
            .map(|d| (body[d.span].to_string(), d.date.to_string(), d.relative))
            .collect()
    }

    fn seen(items: &[(&str, &str, bool)]) -> Vec<(String, String, bool)> {
        items
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
            .collect()
    }

    #[test]
    fn absolute_dates_at_the_precision_given() {
        assert_eq!(
            found(
                "2021-02-01",
                "On Sept. 4, 2020 and 4 September 2020, in September 2020, in 2008 and 2021-01-31."
            ),
            seen(&[
                ("Sept. 4, 2020", "2020-09-04", false),
                ("4 September 2020", "2020-09-04", false),
                ("in September 2020", "2020-09", false),
                ("in 2008", "2008", false),
                ("2021-01-31", "2021-01-31", false),
            ])
        );
    }

    #[test]
    fn relative_dates_count_from_the_publication_date() {
        // 2021-02-03 was a Wednesday.
        assert_eq!(
            found(
                "2021-02-03",
                "They met Monday. Trump announced it in September. It began last year, \
                 yesterday and March 3. They will meet on Friday."
            ),
            seen(&[
                ("Monday", "2021-02-01", true),
                ("in September", "2020-09", true),
                ("last year", "2020", true),
                ("yesterday", "2021-02-02", true),
                ("March 3", "2021-03-03", true),
                ("Friday", "2021-02-05", true),
            ])
        );
    }

    #[test]
    fn without_a_publication_date_only_absolute_dates_are_given() {
        let article = Article::plain("Monday, in September, Sept. 4, 2020".into(), None);
        let found: Vec<String> = dates(&article)
            .into_iter()
            .map(|d| d.date.to_string())
            .collect();
        assert_eq!(found, ["2020-09-04"]);
    }
}
