//! Audit log exports: events rendered as CSV or JSON for auditors and spreadsheets, and the
//! times an export is limited by. The log itself (chain, filters, verification) lives in
//! [`crate::store`]; see [`crate::store::AuditRecord`].
//!
//! Both formats carry every stored field, including `seq`, `prev_hash` and `hash`, so an
//! exported log can be checked against the chain later; `time` adds `at` as an RFC 3339 UTC
//! timestamp. Text is exported as stored: nothing is trimmed or escaped beyond what the format
//! needs.

use crate::store::AuditRecord;
use protocol::mail::civil_from_days;
use serde::Serialize;

/// An export format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// RFC 4180 CSV with a header line.
    Csv,
    /// A JSON array of objects.
    Json,
}

impl ExportFormat {
    /// `records` in this format.
    pub fn render(self, records: &[AuditRecord]) -> String {
        match self {
            Self::Csv => to_csv(records),
            Self::Json => to_json(records),
        }
    }

    /// The media type of [`ExportFormat::render`]'s output.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Json => "application/json",
        }
    }
}

/// Column names of [`to_csv`], which are also the keys of [`to_json`].
pub const COLUMNS: [&str; 14] = [
    "seq",
    "time",
    "at",
    "kind",
    "actor",
    "agent_id",
    "invitation_id",
    "session_id",
    "org_id",
    "user_id",
    "detail",
    "id",
    "prev_hash",
    "hash",
];

/// One exported event, its fields in [`COLUMNS`] order.
#[derive(Serialize)]
struct Row<'a> {
    seq: i64,
    time: String,
    at: i64,
    kind: &'a str,
    actor: &'a str,
    agent_id: Option<&'a str>,
    invitation_id: Option<&'a str>,
    session_id: Option<&'a str>,
    org_id: Option<&'a str>,
    user_id: Option<&'a str>,
    detail: &'a str,
    id: &'a str,
    prev_hash: &'a str,
    hash: &'a str,
}

impl<'a> Row<'a> {
    fn new(r: &'a AuditRecord) -> Self {
        Row {
            seq: r.seq,
            time: rfc3339(r.at),
            at: r.at,
            kind: &r.kind,
            actor: &r.actor,
            agent_id: r.agent.as_deref(),
            invitation_id: r.invitation.as_deref(),
            session_id: r.session.as_deref(),
            org_id: r.org.as_deref(),
            user_id: r.user.as_deref(),
            detail: &r.detail,
            id: &r.id,
            prev_hash: &r.prev_hash,
            hash: &r.hash,
        }
    }

    fn cells(&self) -> [String; 14] {
        let opt = |v: Option<&str>| v.unwrap_or_default().to_owned();
        [
            self.seq.to_string(),
            self.time.clone(),
            self.at.to_string(),
            self.kind.to_owned(),
            self.actor.to_owned(),
            opt(self.agent_id),
            opt(self.invitation_id),
            opt(self.session_id),
            opt(self.org_id),
            opt(self.user_id),
            self.detail.to_owned(),
            self.id.to_owned(),
            self.prev_hash.to_owned(),
            self.hash.to_owned(),
        ]
    }
}

/// CSV (RFC 4180): a header line, then one line per event in the given order, CRLF line ends.
/// Fields holding a comma, a double quote or a line break are quoted, quotes doubled; absent
/// values are empty. A field that a spreadsheet would take for a formula (it starts with `=`,
/// `+`, `-`, `@`, a tab or a carriage return: machine names and logins are chosen by users)
/// gets a leading `'`, so opening the file runs nothing; the JSON export keeps exact values.
pub fn to_csv(records: &[AuditRecord]) -> String {
    let mut out = String::new();
    push_csv_line(&mut out, COLUMNS.iter().copied());
    for record in records {
        let cells = Row::new(record).cells();
        push_csv_line(&mut out, cells.iter().map(String::as_str));
    }
    out
}

fn push_csv_line<'a>(out: &mut String, cells: impl Iterator<Item = &'a str>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let neutral;
        let cell = if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            neutral = format!("'{cell}");
            neutral.as_str()
        } else {
            cell
        };
        if cell.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(cell);
        }
    }
    out.push_str("\r\n");
}

/// A pretty-printed JSON array of objects keyed by [`COLUMNS`], absent values `null`.
pub fn to_json(records: &[AuditRecord]) -> String {
    let rows: Vec<Row<'_>> = records.iter().map(Row::new).collect();
    // Serialising strings, integers and nulls cannot fail.
    let mut text = serde_json::to_string_pretty(&rows).unwrap_or_default();
    text.push('\n');
    text
}

/// `2026-11-25T14:03:00Z` for Unix seconds.
pub fn rfc3339(unix: i64) -> String {
    let (year, month, day) = civil_from_days(unix.div_euclid(86_400));
    let secs = unix.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Unix seconds from a time as people write it: Unix seconds (`1764079380`), a UTC date
/// (`2026-11-25`, midnight) or an RFC 3339 time (`2026-11-25T14:03:00Z`,
/// `2026-11-25T15:03:00+01:00`; seconds optional, a space instead of the `T` allowed, the zone
/// required).
pub fn parse_time(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let refuse = || {
        format!(
            "{text:?} is not a time: give Unix seconds, a date like 2026-11-25 or a time like \
             2026-11-25T14:03:00Z"
        )
    };
    if let Ok(unix) = text.parse::<i64>() {
        return Ok(unix);
    }
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mut parts = date.splitn(3, '-');
    let mut number = |min: i64, max: i64| {
        parts
            .next()
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|n| (min..=max).contains(n))
    };
    let (Some(year), Some(month), Some(day)) = (number(0, 9999), number(1, 12), number(1, 31))
    else {
        return Err(refuse());
    };
    let days = days_from_civil(year, month, day);
    if civil_from_days(days) != (year, month, day) {
        return Err(refuse()); // 30 February and the like
    }
    let Some(time) = time else {
        return Ok(days * 86_400);
    };
    let (clock, offset) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else if let Some(i) = time.rfind(['+', '-']) {
        let (clock, zone) = time.split_at(i);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (h, m) = zone[1..].split_once(':').ok_or_else(refuse)?;
        let h = two_digits(h, 23).ok_or_else(refuse)?;
        let m = two_digits(m, 59).ok_or_else(refuse)?;
        (clock, sign * (h * 3600 + m * 60))
    } else {
        return Err(refuse());
    };
    let mut fields = clock.split(':');
    let hour = fields.next().and_then(|h| two_digits(h, 23));
    let minute = fields.next().and_then(|m| two_digits(m, 59));
    let second = match fields.next() {
        None => Some(0),
        // Fractions of a second are dropped.
        Some(s) => two_digits(s.split('.').next().unwrap_or(s), 60),
    };
    match (hour, minute, second, fields.next()) {
        (Some(h), Some(m), Some(s), None) => Ok(days * 86_400 + h * 3600 + m * 60 + s - offset),
        _ => Err(refuse()),
    }
}

fn two_digits(text: &str, max: i64) -> Option<i64> {
    (text.len() == 2 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
        .filter(|n| *n <= max)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(detail: &str) -> AuditRecord {
        AuditRecord {
            seq: 3,
            id: "id-3".into(),
            at: 1_764_079_380,
            kind: "session_ended".into(),
            actor: "server".into(),
            agent: Some("agent-1".into()),
            invitation: None,
            session: None,
            org: None,
            user: None,
            detail: detail.into(),
            prev_hash: "aa".into(),
            hash: "bb".into(),
        }
    }

    #[test]
    fn csv_quotes_commas_quotes_and_line_breaks() {
        let csv = to_csv(&[record("one, \"two\"\nthree"), record("plain")]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], COLUMNS.join(","));
        assert_eq!(
            lines[1],
            "3,2025-11-25T14:03:00Z,1764079380,session_ended,server,agent-1,,,,,\
             \"one, \"\"two\"\"\nthree\",id-3,aa,bb"
        );
        assert_eq!(
            lines[2],
            "3,2025-11-25T14:03:00Z,1764079380,session_ended,server,agent-1,,,,,plain,id-3,aa,bb"
        );
        assert_eq!(lines[3], "");
    }

    #[test]
    fn csv_cells_a_spreadsheet_would_run_are_neutralised() {
        let csv = to_csv(&[
            record("=HYPERLINK(\"http://x\",\"y\")"),
            record("+1"),
            record("-2+3"),
            record("@SUM(A1)"),
            record("\t=1"),
            record("a=b"),
        ]);
        let details: Vec<&str> = csv
            .split("\r\n")
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| {
                l.split(",,,,,")
                    .nth(1)
                    .and_then(|r| r.rsplitn(4, ',').last())
                    .unwrap_or("")
            })
            .collect();
        assert_eq!(
            details,
            [
                "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"",
                "'+1",
                "'-2+3",
                "'@SUM(A1)",
                "'\t=1",
                "a=b"
            ]
        );
    }

    #[test]
    fn json_is_an_array_of_objects_with_every_column() {
        let json: serde_json::Value =
            serde_json::from_str(&to_json(&[record("a,\"b\"\nc")])).expect("json");
        let row = &json[0];
        for column in COLUMNS {
            assert!(row.get(column).is_some(), "{column} missing");
        }
        assert_eq!(row["detail"], "a,\"b\"\nc");
        assert_eq!(row["invitation_id"], serde_json::Value::Null);
        assert_eq!(row["time"], "2025-11-25T14:03:00Z");
        assert_eq!(to_json(&[]), "[]\n");
    }

    #[test]
    fn times_parse_as_unix_seconds_dates_and_rfc3339() {
        assert_eq!(parse_time("1764079380"), Ok(1_764_079_380));
        assert_eq!(parse_time("2025-11-25"), Ok(1_764_028_800));
        assert_eq!(parse_time("2025-11-25T14:03:00Z"), Ok(1_764_079_380));
        assert_eq!(parse_time("2025-11-25 14:03Z"), Ok(1_764_079_380));
        assert_eq!(parse_time("2025-11-25T15:03:00+01:00"), Ok(1_764_079_380));
        assert_eq!(parse_time("2025-11-25T13:03:00.5-01:00"), Ok(1_764_079_380));
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_time("2024-02-29"), Ok(1_709_164_800));
        for bad in [
            "",
            "yesterday",
            "2025-02-30",
            "2025-13-01",
            "2025-11-25T25:00Z",
            "2025-11-25T14:03",
            "2025-11-25T14:03:00+1",
        ] {
            assert!(parse_time(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn rfc3339_round_trips() {
        for unix in [0, 951_782_400, 1_709_164_800, 1_764_079_380, 4_102_444_799] {
            assert_eq!(parse_time(&rfc3339(unix)), Ok(unix));
        }
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }
}
