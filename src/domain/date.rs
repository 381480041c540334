//! Dates at the precision a source gives: a year, a month or a day.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PartialDate {
    pub year: i16,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{input}' is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD: {reason}")]
pub struct DateError {
    pub input: String,
    pub reason: &'static str,
}

fn days_in_month(year: i16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            if leap {
                29
            } else {
                28
            }
        }
    }
}

impl PartialDate {
    /// The first day the date can mean: 2020-09 starts on 2020-09-01.
    pub fn earliest(&self) -> (i16, u8, u8) {
        (self.year, self.month.unwrap_or(1), self.day.unwrap_or(1))
    }

    /// The last day the date can mean: 2020-09 ends on 2020-09-30.
    pub fn latest(&self) -> (i16, u8, u8) {
        let month = self.month.unwrap_or(12);
        let day = self.day.unwrap_or_else(|| days_in_month(self.year, month));
        (self.year, month, day)
    }

    /// Whether this date can fall inside [from, to]; a coarse date overlapping a bound matches,
    /// so "2020-09" is kept by `from: 2020-09-04`.
    pub fn overlaps(&self, from: Option<&PartialDate>, to: Option<&PartialDate>) -> bool {
        from.is_none_or(|f| self.latest() >= f.earliest())
            && to.is_none_or(|t| self.earliest() <= t.latest())
    }
}

impl FromStr for PartialDate {
    type Err = DateError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason| DateError {
            input: input.to_string(),
            reason,
        };
        let mut parts = input.split('-');
        let year_part = parts.next().unwrap_or_default();
        if year_part.len() != 4 || !year_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail("the year must be four digits"));
        }
        let year: i16 = year_part.parse().map_err(|_| fail("bad year"))?;
        let mut two_digits = |what: &'static str| -> Result<Option<u8>, DateError> {
            match parts.next() {
                None => Ok(None),
                Some(p) if p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()) => {
                    p.parse().map(Some).map_err(|_| fail(what))
                }
                Some(_) => Err(fail(what)),
            }
        };
        let month = two_digits("the month must be two digits")?;
        let day = two_digits("the day must be two digits")?;
        if parts.next().is_some() {
            return Err(fail("too many parts"));
        }
        if let Some(m) = month {
            if !(1..=12).contains(&m) {
                return Err(fail("the month must be 01 to 12"));
            }
            if let Some(d) = day {
                if d == 0 || d > days_in_month(year, m) {
                    return Err(fail("no such day in that month"));
                }
            }
        }
        Ok(PartialDate { year, month, day })
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
            if let Some(d) = self.day {
                write!(f, "-{d:02}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> PartialDate {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_each_precision() {
        for s in ["2008", "2020-09", "2021-02-01", "2024-02-29"] {
            assert_eq!(d(s).to_string(), s);
        }
    }

    #[test]
    fn rejects_malformed_dates() {
        for s in [
            "",
            "20",
            "2021-2",
            "2021-13",
            "2021-02-30",
            "2023-02-29",
            "2021-01-01-01",
            "abcd",
            "2021-00",
        ] {
            assert!(s.parse::<PartialDate>().is_err(), "{s} should be rejected");
        }
    }

    #[test]
    fn coarse_dates_overlap_fine_bounds() {
        let sept = d("2020-09");
        assert!(sept.overlaps(Some(&d("2020-09-04")), None));
        assert!(sept.overlaps(None, Some(&d("2020-09-01"))));
        assert!(!sept.overlaps(Some(&d("2020-10")), None));
        assert!(!sept.overlaps(None, Some(&d("2020-08-31"))));
        assert!(d("2020").overlaps(Some(&d("2020-12-31")), Some(&d("2021"))));
    }
}
