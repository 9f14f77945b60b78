//! Energy prices over the optimizer's horizon: a price file ([`PriceFile`]), or the built-in
//! diurnal model ([`diurnal_scenarios`]) when no file is given. Either gives the
//! [`PriceScenario`]s of a [`ScheduleProblem`](crate::schedule::ScheduleProblem), one price
//! per slot.
//!
//! # The price file
//!
//! A CSV file: a header line, then one row per price interval in strictly increasing time.
//! Lines whose first non-blank character is `#` are comments; blank lines are skipped.
//! Values are separated by commas and may be enclosed in double quotes; spaces around them
//! are ignored.
//!
//! ```text
//! # probabilities: normal=0.6, spike=0.4
//! time,price_per_mwh_normal,price_per_mwh_spike
//! 2026-07-01T00:00:00-05:00,28.0,30.8
//! 2026-07-01T01:00:00-05:00,26.0,28.6
//! ```
//!
//! **Time.** `time` is an RFC 3339 instant with an offset (`Z`, `-05:00`; `T` or a space
//! between date and time). Prices are *interval-beginning* (hour-beginning in an hourly
//! file): each row's price holds from its time until the next row's time, and the last
//! row's for as long as the spacing before it, so a day of hourly rows from 00:00 to 23:00
//! covers the day to midnight (and a file needs at least two rows). The spacing is free:
//! hourly, 5- or 15-minute, or irregular. Times are resolved to the millisecond.
//!
//! **Prices**, per MWh in the file's currency, finite numbers (negative allowed):
//!
//! - one scenario: a single `price_per_mwh` column (probability 1);
//! - several scenarios: one column per scenario named `price_per_mwh_<name>` (`<name>` of
//!   letters, digits, `_` and `-`), with their probabilities on a comment line *before the
//!   header*: `# probabilities: normal=0.6, spike=0.4`. The line is required with more than
//!   one scenario column, names each scenario once, gives each a probability in [0, 1], and
//!   the probabilities must sum to 1 within 1e-6. A single named column needs no line.
//!
//! **Columns users already have.** Every column is looked up in one table of known names
//! ([`KNOWN_COLUMNS`]); any other name is an error that names it. Besides the native
//! columns above, the table holds those of a [gridstatus.io](https://www.gridstatus.io)
//! LMP export (`interval_start_local, interval_start_utc, interval_end_local,
//! interval_end_utc, market, location, location_type, lmp, energy, congestion, loss`):
//! `interval_start_utc` is read as the time, `lmp` as the single scenario's price, the
//! others are ignored (in any layout). Such an export must hold one location and one market
//! (otherwise its times repeat, which is an error). Names are matched exactly, in lower
//! case.
//!
//! **Slots.** [`PriceFile::scenarios`] gives each scenario's time-weighted mean price over
//! each slot: a slot from 00:30 to 01:30 over prices of 40 from 00:00 and 60 from 01:00
//! costs 50. Every slot must lie within the file's span (its first row's time to the end
//! of its last row's interval); the error names the first slot outside it.
//!
//! # The built-in model
//!
//! [`diurnal_scenarios`] prices the same slots from [`DIURNAL`]: three fixed days of hourly
//! prices in local standard time (a normal summer weekday, a windy day with negative night
//! and midday prices, an evening spike), with probabilities 0.6, 0.3 and 0.1. The shapes
//! and where their figures come from are documented on [`DIURNAL`].
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use models::price::{PriceFile, diurnal_scenarios};
//!
//! let text = "\
//! ## probabilities: normal=0.7, spike=0.3
//! time,price_per_mwh_normal,price_per_mwh_spike
//! 2026-07-01T00:00:00Z,40,40
//! 2026-07-01T01:00:00Z,60,300
//! 2026-07-01T02:00:00Z,50,50
//! ";
//! let file = PriceFile::from_str("prices.csv", text)?;
//! let start = Utc.with_ymd_and_hms(2026, 7, 1, 0, 30, 0).unwrap();
//! let scenarios = file.scenarios(start, 2, 60)?;
//! // 00:30–01:30: half an hour at 40, half at 60; 01:30–02:30: 60, then 50.
//! assert_eq!(scenarios[0].price_per_mwh.values(2), [50.0, 55.0]);
//! assert_eq!(scenarios[1].probability, 0.3);
//! // The last row holds for the spacing before it, to 03:00: 02:30–03:30 is not covered.
//! let err = file.scenarios(start, 3, 60).unwrap_err().to_string();
//! assert!(err.starts_with("prices.csv: slot 2 (2026-07-01T02:30:00Z to 2026-07-01T03:30:00Z)"), "{err}");
//! // Bad input names the file, the line and the column.
//! let bad = text.replace("300", "3OO");
//! let err = PriceFile::from_str("prices.csv", &bad).unwrap_err().to_string();
//! assert_eq!(err, "prices.csv, line 4: `price_per_mwh_spike` (column 3): not a number: \"3OO\"");
//! // Without a file: the built-in diurnal model, in local standard time (UTC−5 here).
//! let built_in = diurnal_scenarios(start, 24, 60, -5.0);
//! assert_eq!(built_in.len(), 3);
//! # Ok::<(), models::Error>(())
//! ```

mod diurnal;

pub use diurnal::{DIURNAL, DiurnalScenario, diurnal_scenarios};

use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::schedule::problem::PROBABILITY_SUM_TOLERANCE;
use crate::schedule::{PriceScenario, Series};
use crate::weather::forecast::table;
use crate::{Error, Problems, Result};

/// What a known column of a price file gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRole {
    /// The time the row's price starts to hold.
    Time,
    /// The price of the single scenario, per MWh.
    Price,
    /// Read past: a column of a known export that the price does not need.
    Ignored,
}

/// The known column names of a price file and what each gives. A column named
/// `price_per_mwh_<name>` ([`SCENARIO_COLUMN_PREFIX`]) is the price of scenario `<name>`.
pub const KNOWN_COLUMNS: [(&str, ColumnRole); 13] = [
    // The native layout.
    ("time", ColumnRole::Time),
    ("price_per_mwh", ColumnRole::Price),
    // A gridstatus.io LMP export.
    ("interval_start_utc", ColumnRole::Time),
    ("lmp", ColumnRole::Price),
    ("interval_start_local", ColumnRole::Ignored),
    ("interval_end_local", ColumnRole::Ignored),
    ("interval_end_utc", ColumnRole::Ignored),
    ("market", ColumnRole::Ignored),
    ("location", ColumnRole::Ignored),
    ("location_type", ColumnRole::Ignored),
    ("energy", ColumnRole::Ignored),
    ("congestion", ColumnRole::Ignored),
    ("loss", ColumnRole::Ignored),
];

/// Prefix of the column of one named scenario: `price_per_mwh_normal`.
pub const SCENARIO_COLUMN_PREFIX: &str = "price_per_mwh_";

/// Keyword of the comment line that gives the scenarios' probabilities.
const PROBABILITIES: &str = "probabilities:";

/// One scenario of a price file: its probability and its column's prices, row by row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceColumn {
    /// The scenario's name: the `<name>` of `price_per_mwh_<name>`; for the single column
    /// of a one-scenario file, the column's name (`price_per_mwh` or `lmp`).
    pub name: String,
    /// Probability of the scenario, in [0, 1]; 1 for a one-scenario file.
    pub probability: f64,
    /// Price per MWh of each row, holding from the row's time until the next row's.
    pub price_per_mwh: Vec<f64>,
}

/// A parsed price file (see the [module documentation](self) for the format).
#[derive(Clone, PartialEq)]
pub struct PriceFile {
    file: String,
    times: Vec<DateTime<Utc>>,
    end: DateTime<Utc>,
    columns: Vec<PriceColumn>,
}

impl std::fmt::Debug for PriceFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scenarios: Vec<(&str, f64)> = self
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.probability))
            .collect();
        f.debug_struct("PriceFile")
            .field("file", &self.file)
            .field("start", &table::rfc3339(self.start()))
            .field("end", &table::rfc3339(self.end))
            .field("rows", &self.times.len())
            .field("scenarios", &scenarios)
            .finish()
    }
}

impl PriceFile {
    /// Reads the price file at `path`.
    pub fn read(path: impl AsRef<Path>) -> Result<PriceFile> {
        let path = path.as_ref();
        let text = table::read(path)?;
        PriceFile::from_str(&path.display().to_string(), &text)
    }

    /// Parses price-file text; `file` names it in error messages.
    pub fn from_str(file: &str, text: &str) -> Result<PriceFile> {
        parse(file, text)
    }

    /// The file name used in messages: the path it was read from, or the name given to
    /// [`PriceFile::from_str`].
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The rows' times, strictly increasing (at least two).
    pub fn times(&self) -> &[DateTime<Utc>] {
        &self.times
    }

    /// The start of the file's span: its first row's time.
    pub fn start(&self) -> DateTime<Utc> {
        // invariant: the reader rejects a file of fewer than two rows.
        self.times.first().copied().unwrap_or(self.end)
    }

    /// The end of the file's span: the last row's time plus the spacing before it.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// The scenarios, in column order, their probabilities summing to 1.
    pub fn columns(&self) -> &[PriceColumn] {
        &self.columns
    }

    /// Each scenario's time-weighted mean price over each of `slots` slots of
    /// `slot_minutes` from `start`, in column order.
    ///
    /// Errors when `slot_minutes` is 0 or a slot is not within the file's span
    /// ([`start`](Self::start) to [`end`](Self::end)), naming the first such slot.
    pub fn scenarios(
        &self,
        start: DateTime<Utc>,
        slots: usize,
        slot_minutes: u32,
    ) -> Result<Vec<PriceScenario>> {
        if slot_minutes == 0 {
            return Err(self.invalid("slot_minutes must be > 0, got 0".to_owned()));
        }
        let slot_ms = i64::from(slot_minutes) * 60_000;
        let times_ms: Vec<i64> = self.times.iter().map(DateTime::timestamp_millis).collect();
        let (first_ms, end_ms) = (self.start().timestamp_millis(), self.end.timestamp_millis());
        let start_ms = start.timestamp_millis();
        // The first slot that does not fit in [first_ms, end_ms].
        let uncovered = if slots == 0 {
            None
        } else if start_ms < first_ms {
            Some(0)
        } else {
            let fitting = (end_ms - start_ms) / slot_ms;
            usize::try_from(fitting).ok().filter(|&k| k < slots)
        };
        if let Some(k) = uncovered {
            return Err(self.invalid(format!(
                "slot {k} ({}) is not covered by the file's prices, which span {} to {} (each \
                 row's price holds until the next row's time, the last row's for the spacing \
                 before it)",
                slot_span(start, k, slot_ms),
                table::rfc3339(self.start()),
                table::rfc3339(self.end),
            )));
        }
        let mut means: Vec<Vec<f64>> = vec![Vec::with_capacity(slots); self.columns.len()];
        // Row `row` holds at the start of the current slot.
        let mut row = times_ms.partition_point(|&t| t <= start_ms).saturating_sub(1);
        let mut pieces: Vec<(usize, f64)> = Vec::new();
        for k in 0..slots {
            // No overflow: every slot ends at or before `end_ms` (checked above).
            let a_ms = start_ms + k as i64 * slot_ms;
            let b_ms = a_ms + slot_ms;
            while row + 1 < times_ms.len() && times_ms[row + 1] <= a_ms {
                row += 1;
            }
            pieces.clear();
            let mut j = row;
            while j < times_ms.len() && times_ms[j] < b_ms {
                let from_ms = times_ms[j].max(a_ms);
                let to_ms = times_ms.get(j + 1).copied().unwrap_or(end_ms).min(b_ms);
                if to_ms > from_ms {
                    pieces.push((j, (to_ms - from_ms) as f64));
                }
                j += 1;
            }
            let total_ms: f64 = pieces.iter().map(|(_, w)| w).sum();
            for (column, out) in self.columns.iter().zip(&mut means) {
                let sum: f64 = pieces.iter().map(|&(j, w)| column.price_per_mwh[j] * w).sum();
                out.push(sum / total_ms);
            }
        }
        Ok(self
            .columns
            .iter()
            .zip(means)
            .map(|(column, prices)| PriceScenario {
                probability: column.probability,
                price_per_mwh: Series::PerSlot(prices),
            })
            .collect())
    }

    /// An [`Error::Invalid`] of this file.
    fn invalid(&self, message: String) -> Error {
        let mut problems = Problems::new();
        problems.push("", message);
        Error::Invalid {
            file: self.file.clone(),
            problems,
        }
    }
}

/// Slot `k` of `slot_ms` from `start`, as `from to to` for messages.
fn slot_span(start: DateTime<Utc>, k: usize, slot_ms: i64) -> String {
    let at = |k: usize| {
        i64::try_from(k)
            .ok()
            .and_then(|k| k.checked_mul(slot_ms))
            .and_then(TimeDelta::try_milliseconds)
            .and_then(|d| start.checked_add_signed(d))
    };
    match (at(k), at(k + 1)) {
        (Some(a), Some(b)) => format!("{} to {}", table::rfc3339(a), table::rfc3339(b)),
        _ => format!("{k} × {} min after {}", slot_ms / 60_000, table::rfc3339(start)),
    }
}

/// The `# probabilities:` line: where it is and what it says.
struct Probabilities {
    line: usize,
    /// Name, probability, in the order written.
    entries: Vec<(String, f64)>,
}

/// The probabilities of a `# probabilities:` comment's text after the keyword.
fn parse_probabilities(file: &str, n: usize, text: &str) -> Result<Probabilities> {
    let mut entries: Vec<(String, f64)> = Vec::new();
    let at = |message: String| Error::line(file, n, format!("`# {PROBABILITIES}` {message}"));
    for entry in text.split(',').map(str::trim) {
        if entry.is_empty() {
            continue;
        }
        let Some((name, value)) = entry.split_once('=') else {
            return Err(at(format!(
                "entry {} is not `name=probability` (e.g. `# probabilities: normal=0.6, spike=0.4`)",
                table::quote(entry)
            )));
        };
        let name = name.trim();
        let value = table::number(value).map_err(|why| at(format!("`{name}`: {why}")))?;
        if !(0.0..=1.0).contains(&value) {
            return Err(at(format!("`{name}`: {value} is not a probability in [0, 1]")));
        }
        if entries.iter().any(|(other, _)| other == name) {
            return Err(at(format!("names `{name}` twice")));
        }
        entries.push((name.to_owned(), value));
    }
    if entries.is_empty() {
        return Err(at("gives no probabilities".to_owned()));
    }
    Ok(Probabilities { line: n, entries })
}

/// A price column of the header: its position, the header's name for it, and the
/// scenario's name if it is a named scenario column.
struct PriceAt {
    index: usize,
    column: String,
    scenario: Option<String>,
}

/// The columns of a header line.
struct Layout {
    time: usize,
    prices: Vec<PriceAt>,
    width: usize,
}

fn valid_scenario_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Layout {
    fn of_header(file: &str, n: usize, names: &[String]) -> Result<Layout> {
        let at = |message: String| Error::line(file, n, message);
        let mut time: Option<usize> = None;
        let mut prices: Vec<PriceAt> = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if let Some(j) = names[..i].iter().position(|other| other == name) {
                return Err(at(format!(
                    "column `{name}` appears twice (columns {} and {})",
                    j + 1,
                    i + 1
                )));
            }
            let role = KNOWN_COLUMNS
                .iter()
                .find(|(known, _)| known == name)
                .map(|&(_, role)| role);
            match (role, name.strip_prefix(SCENARIO_COLUMN_PREFIX)) {
                (Some(ColumnRole::Time), _) => {
                    if let Some(j) = time {
                        return Err(at(format!(
                            "columns `{}` (column {}) and `{name}` (column {}) both give the time: keep one",
                            names[j],
                            j + 1,
                            i + 1
                        )));
                    }
                    time = Some(i);
                }
                (Some(ColumnRole::Price), _) => prices.push(PriceAt {
                    index: i,
                    column: name.clone(),
                    scenario: None,
                }),
                (Some(ColumnRole::Ignored), _) => {}
                (None, Some(scenario)) => {
                    if !valid_scenario_name(scenario) {
                        return Err(at(format!(
                            "column {} (column {}): a scenario name after `{SCENARIO_COLUMN_PREFIX}` is \
                             letters, digits, `_` and `-`",
                            table::quote(name),
                            i + 1
                        )));
                    }
                    prices.push(PriceAt {
                        index: i,
                        column: name.clone(),
                        scenario: Some(scenario.to_owned()),
                    });
                }
                (None, None) => {
                    let known: Vec<&str> = KNOWN_COLUMNS.iter().map(|(known, _)| *known).collect();
                    return Err(at(format!(
                        "unknown column {} (column {}); a price file has `time` and `price_per_mwh` or \
                         `price_per_mwh_<scenario>` columns; the known names are {}, and \
                         {SCENARIO_COLUMN_PREFIX}<scenario>",
                        table::quote(name),
                        i + 1,
                        known.join(", ")
                    )));
                }
            }
        }
        let Some(time) = time else {
            return Err(at(
                "missing the time column: `time` (or a gridstatus.io export's `interval_start_utc`)"
                    .to_owned(),
            ));
        };
        let unnamed: Vec<&PriceAt> = prices.iter().filter(|p| p.scenario.is_none()).collect();
        match (unnamed.as_slice(), prices.len()) {
            (_, 0) => {
                return Err(at(
                    "missing a price column: `price_per_mwh`, one `price_per_mwh_<scenario>` per \
                     scenario, or a gridstatus.io export's `lmp`"
                        .to_owned(),
                ));
            }
            ([], _) | ([_], 1) => {}
            ([one], _) => {
                let other = prices
                    .iter()
                    .find(|p| p.index != one.index)
                    .map_or("", |p| p.column.as_str());
                return Err(at(format!(
                    "column `{}` (column {}) and `{other}`: a file has a single price column \
                     (`price_per_mwh` or `lmp`) or one `price_per_mwh_<scenario>` column per scenario, \
                     not both",
                    one.column,
                    one.index + 1
                )));
            }
            ([a, b, ..], _) => {
                return Err(at(format!(
                    "columns `{}` (column {}) and `{}` (column {}) both give the single scenario's \
                     price: keep one",
                    a.column,
                    a.index + 1,
                    b.column,
                    b.index + 1
                )));
            }
        }
        Ok(Layout {
            time,
            prices,
            width: names.len(),
        })
    }

    /// Each price column's probability, checked against the `# probabilities:` line.
    fn probabilities(
        &self,
        file: &str,
        header_line: usize,
        given: Option<&Probabilities>,
    ) -> Result<Vec<(String, f64)>> {
        let named: Vec<&str> = self.prices.iter().filter_map(|p| p.scenario.as_deref()).collect();
        let Some(given) = given else {
            return match (self.prices.as_slice(), named.len()) {
                ([single], _) => Ok(vec![(
                    single.scenario.clone().unwrap_or_else(|| single.column.clone()),
                    1.0,
                )]),
                (_, count) => {
                    let example: Vec<String> = named
                        .iter()
                        .map(|name| format!("{name}={:.2}", 1.0 / count as f64))
                        .collect();
                    Err(Error::line(
                        file,
                        header_line,
                        format!(
                            "{count} scenario columns need their probabilities on a line before the \
                             header, like `# {PROBABILITIES} {}` (they must sum to 1 within \
                             {PROBABILITY_SUM_TOLERANCE:e})",
                            example.join(", ")
                        ),
                    ))
                }
            };
        };
        let at = |message: String| Error::line(file, given.line, format!("`# {PROBABILITIES}` {message}"));
        if named.is_empty() {
            return Err(at(format!(
                "is for scenario columns `{SCENARIO_COLUMN_PREFIX}<name>`; this file has the single \
                 price column `{}`",
                self.prices.first().map_or("", |p| p.column.as_str())
            )));
        }
        for (name, _) in &given.entries {
            if !named.contains(&name.as_str()) {
                return Err(at(format!(
                    "names `{name}`, but the header has no column `{SCENARIO_COLUMN_PREFIX}{name}` \
                     (its scenarios: {})",
                    named.join(", ")
                )));
            }
        }
        let mut out = Vec::with_capacity(named.len());
        for price in &self.prices {
            let name = price.scenario.as_deref().unwrap_or("");
            let Some((_, p)) = given.entries.iter().find(|(given, _)| given == name) else {
                return Err(at(format!(
                    "gives no probability for scenario `{name}` (column {}, `{}`)",
                    price.index + 1,
                    price.column
                )));
            };
            out.push((name.to_owned(), *p));
        }
        let sum: f64 = out.iter().map(|(_, p)| p).sum();
        if (sum - 1.0).abs() > PROBABILITY_SUM_TOLERANCE {
            return Err(at(format!(
                "probabilities sum to {sum}; they must sum to 1 (within {PROBABILITY_SUM_TOLERANCE:e})"
            )));
        }
        Ok(out)
    }
}

fn parse(file: &str, text: &str) -> Result<PriceFile> {
    // The header, and the probabilities line before it.
    let mut probabilities: Option<Probabilities> = None;
    let mut header: Option<(usize, &str)> = None;
    let mut rows: Vec<(usize, &str)> = Vec::new();
    for (n, line) in table::lines(text) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            if let Some(rest) = comment.trim_start().strip_prefix(PROBABILITIES) {
                if let Some((h, _)) = header {
                    return Err(Error::line(
                        file,
                        n,
                        format!("the `# {PROBABILITIES}` line must come before the header (line {h})"),
                    ));
                }
                if let Some(first) = &probabilities {
                    return Err(Error::line(
                        file,
                        n,
                        format!(
                            "a second `# {PROBABILITIES}` line (the first is line {})",
                            first.line
                        ),
                    ));
                }
                probabilities = Some(parse_probabilities(file, n, rest)?);
            }
            continue;
        }
        if header.is_none() {
            header = Some((n, line));
        } else {
            rows.push((n, line));
        }
    }
    let Some((header_line, header)) = header else {
        return Err(Error::line(
            file,
            1,
            "no header: expected a line like `time,price_per_mwh` or `time,price_per_mwh_<scenario>,…`",
        ));
    };
    let names = table::split(file, header_line, header)?;
    let layout = Layout::of_header(file, header_line, &names)?;
    let weights = layout.probabilities(file, header_line, probabilities.as_ref())?;

    let mut times: Vec<DateTime<Utc>> = Vec::with_capacity(rows.len());
    let mut prices: Vec<Vec<f64>> = vec![Vec::with_capacity(rows.len()); layout.prices.len()];
    let mut previous_line = header_line;
    for &(n, line) in &rows {
        let fields = table::split(file, n, line)?;
        if fields.len() != layout.width {
            return Err(Error::line(
                file,
                n,
                format!(
                    "{} values, but the header (line {header_line}) names {} columns",
                    fields.len(),
                    layout.width
                ),
            ));
        }
        let field_error = |i: usize, why: String| {
            let name = names.get(i).map_or("", String::as_str);
            Error::line(file, n, format!("`{name}` (column {}): {why}", i + 1))
        };
        let text_at = |i: usize| fields.get(i).map_or("", String::as_str);
        let time = table::time(text_at(layout.time)).map_err(|why| field_error(layout.time, why))?;
        if let Some(&previous) = times.last() {
            if time <= previous {
                return Err(field_error(
                    layout.time,
                    format!(
                        "{} is not after the previous row's {} (line {previous_line}); rows must be in \
                         strictly increasing time, one per interval",
                        table::rfc3339(time),
                        table::rfc3339(previous)
                    ),
                ));
            }
        }
        times.push(time);
        for (price, out) in layout.prices.iter().zip(&mut prices) {
            out.push(table::number(text_at(price.index)).map_err(|why| field_error(price.index, why))?);
        }
        previous_line = n;
    }
    let end = match times.as_slice() {
        [] => {
            return Err(Error::line(file, header_line + 1, "no rows after the header"));
        }
        [_] => {
            return Err(Error::line(
                file,
                previous_line,
                "only one row: a price file needs at least two, since the last row's price holds \
                 for the spacing before it",
            ));
        }
        [.., before, last] => last.checked_add_signed(*last - *before).ok_or_else(|| {
            Error::line(
                file,
                previous_line,
                "the last row's interval ends beyond the representable time",
            )
        })?,
    };
    let columns = weights
        .into_iter()
        .zip(prices)
        .map(|((name, probability), price_per_mwh)| PriceColumn {
            name,
            probability,
            price_per_mwh,
        })
        .collect();
    Ok(PriceFile {
        file: file.to_owned(),
        times,
        end,
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn utc(d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, d, h, mi, 0)
            .single()
            .expect("valid date")
    }

    const THREE: &str = "\
# Day-ahead prices, three scenarios.
# probabilities: normal=0.5, windy=0.3, spike=0.2

time,price_per_mwh_normal,price_per_mwh_windy,price_per_mwh_spike
2026-07-01T00:00:00Z,10,-5.5,10
2026-07-01T00:30:00Z,40,-20,400
2026-07-01T01:30:00Z,20,0,20.25
";

    fn error_of(text: &str) -> String {
        match PriceFile::from_str("p.csv", text) {
            Ok(_) => panic!("bad price file accepted:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    fn edited(from: &str, to: &str) -> String {
        assert!(THREE.contains(from), "{from:?} not in the file");
        THREE.replacen(from, to, 1)
    }

    #[test]
    fn a_valid_file_reads_back_exactly() {
        let f = PriceFile::from_str("p.csv", THREE).expect("valid");
        assert_eq!(f.file(), "p.csv");
        assert_eq!(
            format!("{f:?}"),
            "PriceFile { file: \"p.csv\", start: \"2026-07-01T00:00:00Z\", end: \"2026-07-01T02:30:00Z\", \
             rows: 3, scenarios: [(\"normal\", 0.5), (\"windy\", 0.3), (\"spike\", 0.2)] }"
        );
        assert_eq!(f.times(), [utc(1, 0, 0), utc(1, 0, 30), utc(1, 1, 30)]);
        // The last row holds for the hour before it.
        assert_eq!((f.start(), f.end()), (utc(1, 0, 0), utc(1, 2, 30)));
        let columns: Vec<(&str, f64, &[f64])> = f
            .columns()
            .iter()
            .map(|c| (c.name.as_str(), c.probability, c.price_per_mwh.as_slice()))
            .collect();
        assert_eq!(
            columns,
            [
                ("normal", 0.5, &[10.0, 40.0, 20.0][..]),
                ("windy", 0.3, &[-5.5, -20.0, 0.0][..]),
                ("spike", 0.2, &[10.0, 400.0, 20.25][..]),
            ]
        );
    }

    /// Prices 10 (00:00–00:30), 40 (00:30–01:30), 20 (01:30–02:30), worked by hand.
    #[test]
    fn slot_means_of_a_step_function_worked_by_hand() {
        let f = PriceFile::from_str("p.csv", THREE).expect("valid");
        // Hourly from 00:00: (30·10 + 30·40)/60 = 25; (30·40 + 30·20)/60 = 30.
        let s = f.scenarios(utc(1, 0, 0), 2, 60).expect("covered");
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].price_per_mwh, Series::PerSlot(vec![25.0, 30.0]));
        assert_eq!(s[1].price_per_mwh, Series::PerSlot(vec![-12.75, -10.0]));
        assert_eq!(
            (s[0].probability, s[1].probability, s[2].probability),
            (0.5, 0.3, 0.2)
        );
        // 45 minutes from 00:15: (15·10 + 30·40)/45 = 30; then 01:00–01:45:
        // (30·40 + 15·20)/45 = 33⅓.
        let s = f.scenarios(utc(1, 0, 15), 2, 45).expect("covered");
        let p = s[0].price_per_mwh.values(2);
        assert!(
            (p[0] - 30.0).abs() < 1e-12 && (p[1] - 100.0 / 3.0).abs() < 1e-12,
            "{p:?}"
        );
        // A slot inside one interval takes its price; a slot covering the whole span the mean.
        let s = f.scenarios(utc(1, 0, 40), 1, 10).expect("covered");
        assert_eq!(s[2].price_per_mwh.at(0), 400.0);
        let s = f.scenarios(utc(1, 0, 0), 1, 150).expect("covered");
        assert!((s[0].price_per_mwh.at(0) - (30.0 * 10.0 + 60.0 * 40.0 + 60.0 * 20.0) / 150.0).abs() < 1e-12);
        // No slots: empty series.
        assert_eq!(
            f.scenarios(utc(1, 0, 0), 0, 60).expect("empty")[0]
                .price_per_mwh
                .values(0),
            Vec::<f64>::new()
        );
    }

    #[test]
    fn slots_outside_the_span_are_named() {
        let f = PriceFile::from_str("p.csv", THREE).expect("valid");
        let err = f
            .scenarios(utc(1, 0, 0), 3, 60)
            .expect_err("slot 2 ends at 03:00")
            .to_string();
        assert_eq!(
            err,
            "p.csv: slot 2 (2026-07-01T02:00:00Z to 2026-07-01T03:00:00Z) is not covered by the file's \
             prices, which span 2026-07-01T00:00:00Z to 2026-07-01T02:30:00Z (each row's price holds \
             until the next row's time, the last row's for the spacing before it)"
        );
        let err = f
            .scenarios(utc(1, 0, 0) - TimeDelta::seconds(1), 1, 60)
            .expect_err("early")
            .to_string();
        assert!(
            err.starts_with("p.csv: slot 0 (2026-06-30T23:59:59Z to 2026-07-01T00:59:59Z)"),
            "{err}"
        );
        // A slot ending exactly at the span's end is covered.
        assert!(f.scenarios(utc(1, 0, 30), 4, 30).is_ok());
        assert!(
            f.scenarios(utc(1, 0, 30), 5, 30)
                .expect_err("past")
                .to_string()
                .contains("slot 4")
        );
        let err = f.scenarios(utc(1, 0, 0), 1, 0).expect_err("zero").to_string();
        assert!(err.contains("slot_minutes must be > 0"), "{err}");
        // A horizon absurdly long does not overflow.
        let err = f
            .scenarios(utc(1, 0, 0), usize::MAX, u32::MAX)
            .expect_err("long")
            .to_string();
        assert!(err.contains("slot 0"), "{err}");
    }

    #[test]
    fn one_scenario_and_gridstatus_layouts_are_read() {
        let plain = "time,price_per_mwh\n2026-07-01T00:00:00-05:00,30\n2026-07-01T00:05:00-05:00,-2.5\n";
        let f = PriceFile::from_str("one.csv", plain).expect("valid");
        assert_eq!(f.columns().len(), 1);
        assert_eq!(
            (f.columns()[0].name.as_str(), f.columns()[0].probability),
            ("price_per_mwh", 1.0)
        );
        assert_eq!(f.end(), utc(1, 5, 10));
        // A single named scenario needs no probabilities line.
        let named = plain.replace("price_per_mwh", "price_per_mwh_rt");
        assert_eq!(
            PriceFile::from_str("n.csv", &named).expect("valid").columns()[0].name,
            "rt"
        );
        // A gridstatus.io export (pandas writes times with a space), quoted names.
        let gridstatus = "\
interval_start_local,interval_start_utc,interval_end_local,interval_end_utc,market,location,location_type,lmp,energy,congestion,loss
2026-07-01 00:00:00-04:00,2026-07-01 04:00:00+00:00,2026-07-01 01:00:00-04:00,2026-07-01 05:00:00+00:00,DAY_AHEAD_HOURLY,DOM,ZONE,31.2,30.1,0.4,0.7
2026-07-01 01:00:00-04:00,2026-07-01 05:00:00+00:00,2026-07-01 02:00:00-04:00,2026-07-01 06:00:00+00:00,DAY_AHEAD_HOURLY,\"DOM, zone\",ZONE,29.8,29.0,0.2,0.6
";
        let f = PriceFile::from_str("gs.csv", gridstatus).expect("gridstatus");
        assert_eq!(f.times(), [utc(1, 4, 0), utc(1, 5, 0)]);
        assert_eq!(f.end(), utc(1, 6, 0));
        assert_eq!(
            (
                f.columns()[0].name.as_str(),
                f.columns()[0].price_per_mwh.as_slice()
            ),
            ("lmp", &[31.2, 29.8][..])
        );
        // Two locations in one export: their times repeat.
        let two = gridstatus.replace(
            "2026-07-01 05:00:00+00:00,2026-07-01 02",
            "2026-07-01 04:00:00+00:00,2026-07-01 02",
        );
        let err = error_of(&two);
        assert!(
            err.contains("line 3: `interval_start_utc` (column 2): 2026-07-01T04:00:00Z is not after"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_name_line_and_column() {
        let cases = [
            (
                edited(",400\n", ",lots\n"),
                "p.csv, line 6: `price_per_mwh_spike` (column 4): not a number: \"lots\"",
            ),
            (
                edited(",-20,", ",,"),
                "p.csv, line 6: `price_per_mwh_windy` (column 3): empty",
            ),
            (
                edited(",-20,", ",inf,"),
                "p.csv, line 6: `price_per_mwh_windy` (column 3): not a number: \"inf\"",
            ),
            (
                edited("2026-07-01T00:30:00Z", "2026-07-01T00:00:00Z"),
                "p.csv, line 6: `time` (column 1): 2026-07-01T00:00:00Z is not after the previous row's \
                 2026-07-01T00:00:00Z (line 5); rows must be in strictly increasing time",
            ),
            (
                edited("2026-07-01T01:30:00Z", "2026-07-01T00:29:00Z"),
                "line 7: `time` (column 1): 2026-07-01T00:29:00Z is not after",
            ),
            (
                edited("2026-07-01T00:30:00Z", "2026-07-01 00:30"),
                "p.csv, line 6: `time` (column 1): not an RFC 3339 time with an offset",
            ),
            (
                edited(",20,0,20.25", ",20,0"),
                "p.csv, line 7: 3 values, but the header (line 4) names 4 columns",
            ),
        ];
        for (text, needle) in cases {
            let err = error_of(&text);
            assert!(err.contains(needle), "{needle:?} not in {err:?}");
        }
        let one_row = "time,price_per_mwh\n2026-07-01T00:00:00Z,30\n";
        assert!(
            error_of(one_row).contains("line 2: only one row"),
            "{}",
            error_of(one_row)
        );
        assert!(error_of("time,price_per_mwh\n").contains("line 2: no rows after the header"));
        assert!(error_of("").contains("p.csv, line 1: no header"));
    }

    #[test]
    fn bad_headers_name_the_column() {
        let header = "time,price_per_mwh_normal,price_per_mwh_windy,price_per_mwh_spike";
        let cases = [
            (
                "time,price_per_mwh_normal,price_per_mwh_windy,price_eur",
                "p.csv, line 4: unknown column \"price_eur\" (column 4); a price file has `time` and",
            ),
            (
                "price_per_mwh_normal,price_per_mwh_windy,price_per_mwh_spike",
                "line 4: missing the time column",
            ),
            ("time,location", "line 4: missing a price column"),
            (
                "time,price_per_mwh_normal,price_per_mwh_normal,price_per_mwh_spike",
                "line 4: column `price_per_mwh_normal` appears twice (columns 2 and 3)",
            ),
            (
                "time,interval_start_utc,price_per_mwh_windy,price_per_mwh_spike",
                "line 4: columns `time` (column 1) and `interval_start_utc` (column 2) both give the time",
            ),
            (
                "time,price_per_mwh,price_per_mwh_windy,price_per_mwh_spike",
                "line 4: column `price_per_mwh` (column 2) and `price_per_mwh_windy`: a file has a single",
            ),
            (
                "time,price_per_mwh_normal,price_per_mwh_wind y,price_per_mwh_spike",
                "line 4: column \"price_per_mwh_wind y\" (column 3): a scenario name",
            ),
        ];
        for (new_header, needle) in cases {
            let err = error_of(&THREE.replace(header, new_header));
            assert!(err.contains(needle), "{needle:?} not in {err:?}");
        }
        let err = error_of("time,price_per_mwh,lmp\n");
        assert!(
            err.contains("line 1: columns `price_per_mwh` (column 2) and `lmp` (column 3) both give"),
            "{err}"
        );
    }

    #[test]
    fn probabilities_are_checked() {
        let line = "# probabilities: normal=0.5, windy=0.3, spike=0.2";
        let cases = [
            (
                "# probabilities: normal=0.5, windy=0.3, spike=0.1",
                "p.csv, line 2: `# probabilities:` probabilities sum to 0.9; they must sum to 1 (within 1e-6)",
            ),
            (
                "# probabilities: normal=0.5, windy=0.3, spike=0.2000011",
                "line 2: `# probabilities:` probabilities sum to 1.0000011",
            ),
            (
                "# probabilities: normal=0.5, windy=0.5",
                "line 2: `# probabilities:` gives no probability for scenario `spike` (column 4, `price_per_mwh_spike`)",
            ),
            (
                "# probabilities: normal=0.5, windy=0.3, spike=0.1, calm=0.1",
                "line 2: `# probabilities:` names `calm`, but the header has no column `price_per_mwh_calm`",
            ),
            (
                "# probabilities: normal=0.5, windy 0.3, spike=0.2",
                "line 2: `# probabilities:` entry \"windy 0.3\" is not `name=probability`",
            ),
            (
                "# probabilities: normal=half, windy=0.3, spike=0.2",
                "line 2: `# probabilities:` `normal`: not a number: \"half\"",
            ),
            (
                "# probabilities: normal=1.5, windy=-0.3, spike=-0.2",
                "line 2: `# probabilities:` `normal`: 1.5 is not a probability in [0, 1]",
            ),
            (
                "# probabilities: normal=0.5, normal=0.3, spike=0.2",
                "line 2: `# probabilities:` names `normal` twice",
            ),
            (
                "# probabilities:",
                "line 2: `# probabilities:` gives no probabilities",
            ),
            (
                "# no probabilities here",
                "p.csv, line 4: 3 scenario columns need their probabilities on a line before the header, \
                 like `# probabilities: normal=0.33, windy=0.33, spike=0.33` (they must sum to 1 within 1e-6)",
            ),
        ];
        for (new_line, needle) in cases {
            let err = error_of(&THREE.replace(line, new_line));
            assert!(err.contains(needle), "{needle:?} not in {err:?}");
        }
        // Within the tolerance is fine.
        let close = THREE.replace("spike=0.2", "spike=0.2000005");
        assert!(PriceFile::from_str("p.csv", &close).is_ok());
        // After the header, or twice.
        let late = THREE
            .replace(&format!("{line}\n"), "")
            .replace("2026-07-01T00:30", &format!("{line}\n2026-07-01T00:30"));
        assert!(
            error_of(&late)
                .contains("line 5: the `# probabilities:` line must come before the header (line 3)"),
            "{}",
            error_of(&late)
        );
        let twice = THREE.replace(line, &format!("{line}\n{line}"));
        assert!(error_of(&twice).contains("line 3: a second `# probabilities:` line (the first is line 2)"));
        // For a single unnamed column it makes no sense.
        let single =
            "# probabilities: a=1\ntime,price_per_mwh\n2026-07-01T00:00:00Z,1\n2026-07-01T01:00:00Z,2\n";
        assert!(
            error_of(single).contains("line 1: `# probabilities:` is for scenario columns"),
            "{}",
            error_of(single)
        );
    }

    #[test]
    fn the_example_file_is_the_diurnal_model() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/prices.csv");
        let f = PriceFile::read(&path).expect("the example reads");
        let names: Vec<&str> = f.columns().iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["normal", "windy", "spike"]);
        // A day of 15-minute prices, local midnight to midnight in Virginia (UTC−5).
        assert_eq!(f.times().len(), 96);
        let start = Utc.with_ymd_and_hms(2026, 7, 1, 5, 0, 0).single().expect("date");
        assert_eq!((f.start(), f.end()), (start, start + TimeDelta::days(1)));
        // It holds the built-in model's hourly prices: the same slot prices at any grid.
        for slot_minutes in [15, 60, 90] {
            let slots = 24 * 60 / slot_minutes as usize;
            let from_file = f.scenarios(start, slots, slot_minutes).expect("covered");
            let built_in = diurnal_scenarios(start, slots, slot_minutes, -5.0);
            for (a, b) in from_file.iter().zip(&built_in) {
                assert_eq!(a.probability, b.probability);
                for (p, q) in a
                    .price_per_mwh
                    .values(slots)
                    .iter()
                    .zip(b.price_per_mwh.values(slots))
                {
                    assert!((p - q).abs() < 1e-9, "{slot_minutes} min: {p} vs {q}");
                }
            }
        }
        let err = PriceFile::read(path.with_file_name("no-such-prices.csv"))
            .expect_err("missing")
            .to_string();
        assert!(err.contains("no-such-prices.csv"), "{err}");
    }

    /// Random step functions: times at irregular spacing, prices of either sign.
    fn step_function() -> impl Strategy<Value = (Vec<i64>, Vec<f64>)> {
        prop::collection::vec((1i64..240, -200.0f64..2000.0), 2..40).prop_map(|steps| {
            let mut minute = 0;
            steps
                .into_iter()
                .map(|(gap, price)| {
                    minute += gap;
                    (minute, price)
                })
                .unzip()
        })
    }

    fn file_of(minutes: &[i64], prices: &[f64]) -> String {
        let mut text = String::from("time,price_per_mwh\n");
        for (m, p) in minutes.iter().zip(prices) {
            text += &format!("{},{p}\n", table::rfc3339(utc(1, 0, 0) + TimeDelta::minutes(*m)));
        }
        text
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Each slot's mean lies between the lowest and highest price it covers, and the
        /// slot means integrate to the step function's integral over the horizon.
        #[test]
        fn slot_means_are_bounded_and_conserve_the_integral(
            (minutes, prices) in step_function(), slot_minutes in 1u32..180, at in 0.0f64..1.0,
        ) {
            let f = PriceFile::from_str("rand.csv", &file_of(&minutes, &prices)).expect("valid");
            let span_min = (f.end() - f.start()).num_minutes();
            let slots = (span_min / i64::from(slot_minutes)) as usize;
            prop_assume!(slots >= 1);
            // Start anywhere that leaves room for at least one slot.
            let slack_min = span_min - slots as i64 * i64::from(slot_minutes);
            let start = f.start() + TimeDelta::minutes((slack_min as f64 * at) as i64);
            let means = f.scenarios(start, slots, slot_minutes).expect("covered")[0].price_per_mwh.values(slots);
            let end_minute = minutes[minutes.len() - 1] + (minutes[minutes.len() - 1] - minutes[minutes.len() - 2]);
            let price_at = |m: i64| prices[minutes.partition_point(|&t| t <= m) - 1];
            let offset = (start - utc(1, 0, 0)).num_minutes();
            let mut integral = 0.0;
            for (k, mean) in means.iter().enumerate() {
                let (a, b) = (offset + k as i64 * i64::from(slot_minutes), offset + (k as i64 + 1) * i64::from(slot_minutes));
                prop_assert!(b <= end_minute);
                let covered: Vec<f64> = (a..b).map(price_at).collect();
                let lo = covered.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = covered.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let tol = 1e-9 * (1.0 + lo.abs().max(hi.abs()));
                prop_assert!(lo - tol <= *mean && *mean <= hi + tol, "slot {k}: {mean} not in [{lo}, {hi}]");
                integral += covered.iter().sum::<f64>();
            }
            let from_means: f64 = means.iter().sum::<f64>() * f64::from(slot_minutes);
            prop_assert!((from_means - integral).abs() <= 1e-9 * (1.0 + integral.abs()) * means.len() as f64);
        }

        /// Garbage never panics the reader.
        #[test]
        fn garbage_is_an_error_not_a_panic(text in "\\PC{0,300}") {
            let _ = PriceFile::from_str("junk.csv", &text);
            let _ = PriceFile::from_str("junk.csv", &format!("time,price_per_mwh\n{text}"));
            let _ = PriceFile::from_str("junk.csv", &format!("# probabilities:{text}\ntime,price_per_mwh_a,price_per_mwh_b\n"));
        }
    }
}
