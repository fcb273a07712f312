//! The efficiency evaluation (政务服务效能评价): per department and per template, how many
//! requests, how fast, how many overdue, from facts the registry has already read.
//!
//! Pure: the facts and "now" are passed in. Times are Unix milliseconds.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// One department's decision on a request (并联审批: every department decides in parallel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Pending,
    Approved,
    Rejected,
}

/// Where a request ended, or that it has not yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Open,
    Issued,
    Rejected,
}

/// One department's sign-off on one request.
#[derive(Clone, Debug)]
pub struct SignOffFacts {
    pub department: String,
    pub decision: Decision,
    pub decided_at_ms: Option<i64>,
}

/// What the report needs to know about one issuance request.
#[derive(Clone, Debug)]
pub struct RequestFacts {
    pub template_id: String,
    pub template_title: String,
    /// The template's own department.
    pub department: String,
    pub sign_offs: Vec<SignOffFacts>,
    pub opened_at_ms: i64,
    pub deadline_ms: i64,
    pub closed_at_ms: Option<i64>,
    pub outcome: Outcome,
    /// A 容缺后补 deadline passed with materials still missing.
    pub commitment_missed: bool,
}

/// What a row of the report is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Department,
    Template,
}

impl Scope {
    /// The name used in JSON and in the CSV's first column.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Department => "department",
            Scope::Template => "template",
        }
    }
}

/// One department's or one template's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EfficiencyRow {
    pub scope: Scope,
    /// The department's name or the template's id.
    pub key: String,
    /// The template's title (from its most recently opened request); None for departments.
    pub title: Option<String>,
    pub requests: u64,
    pub issued: u64,
    pub rejected: u64,
    pub open: u64,
    /// Over closed requests: `closed_at - opened_at`.
    pub median_processing_ms: Option<i64>,
    pub p90_processing_ms: Option<i64>,
    /// Closed after its deadline, or still open past it at `now_ms`.
    pub overdue: u64,
    pub commitments_missed: u64,
    /// Department rows: decisions this department gave (pending ones excluded); 0 for templates.
    pub sign_offs: u64,
    pub sign_offs_rejected: u64,
    /// `decided_at - opened_at` of this department's decisions.
    pub median_sign_off_ms: Option<i64>,
    pub p90_sign_off_ms: Option<i64>,
}

/// The whole evaluation: departments and templates, each sorted by key.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EfficiencyReport {
    pub departments: Vec<EfficiencyRow>,
    pub templates: Vec<EfficiencyRow>,
}

/// A department row covers every request whose template is the department's own or needs its
/// sign-off, each request once per department; its sign-off figures count its own decisions.
/// Rows are sorted by key.
pub fn efficiency(facts: &[RequestFacts], now_ms: i64) -> EfficiencyReport {
    let mut departments: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut templates: BTreeMap<&str, Tally> = BTreeMap::new();
    for request in facts {
        templates
            .entry(&request.template_id)
            .or_default()
            .add_request(request, now_ms);
        let covered: BTreeSet<&str> = std::iter::once(request.department.as_str())
            .chain(request.sign_offs.iter().map(|s| s.department.as_str()))
            .collect();
        for department in covered {
            departments
                .entry(department)
                .or_default()
                .add_request(request, now_ms);
        }
        for sign_off in &request.sign_offs {
            departments
                .entry(&sign_off.department)
                .or_default()
                .add_sign_off(sign_off, request.opened_at_ms);
        }
    }
    EfficiencyReport {
        departments: departments
            .into_iter()
            .map(|(key, tally)| tally.into_row(Scope::Department, key))
            .collect(),
        templates: templates
            .into_iter()
            .map(|(key, tally)| tally.into_row(Scope::Template, key))
            .collect(),
    }
}

/// Nearest-rank percentile (rank = ⌈p/100 × n⌉, at least 1) of unsorted values; None when
/// empty. Nearest rank always returns an observed value, so a median is a real request's time.
/// `p = 0` gives the minimum, `p >= 100` the maximum.
pub fn percentile(values: &[i64], p: u32) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len() as u128;
    let rank = (u128::from(p) * n).div_ceil(100).clamp(1, n);
    sorted.get(usize::try_from(rank - 1).ok()?).copied()
}

/// The columns of `to_csv`, in order.
const CSV_HEADER: [&str; 15] = [
    "scope",
    "key",
    "title",
    "requests",
    "issued",
    "rejected",
    "open",
    "median_processing_ms",
    "p90_processing_ms",
    "overdue",
    "commitments_missed",
    "sign_offs",
    "sign_offs_rejected",
    "median_sign_off_ms",
    "p90_sign_off_ms",
];

/// The report as RFC 4180 CSV: a header line, then departments, then templates, CRLF line ends.
///
/// Text cells (key, title) that start with `= + - @`, TAB or CR get a leading `'`, because these
/// files are opened in Excel and WPS, which would run them as formulas (OWASP "CSV Injection").
/// Numbers are written as they are; an absent figure is an empty cell.
pub fn to_csv(report: &EfficiencyReport) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    for row in report.departments.iter().chain(&report.templates) {
        let optional = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
        let cells = [
            row.scope.as_str().to_string(),
            text_cell(&row.key),
            row.title.as_deref().map(text_cell).unwrap_or_default(),
            row.requests.to_string(),
            row.issued.to_string(),
            row.rejected.to_string(),
            row.open.to_string(),
            optional(row.median_processing_ms),
            optional(row.p90_processing_ms),
            row.overdue.to_string(),
            row.commitments_missed.to_string(),
            row.sign_offs.to_string(),
            row.sign_offs_rejected.to_string(),
            optional(row.median_sign_off_ms),
            optional(row.p90_sign_off_ms),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A text cell, defused against formula injection, then quoted if RFC 4180 §2 requires it.
fn text_cell(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if defused.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// The running figures of one row.
#[derive(Default)]
struct Tally<'a> {
    requests: u64,
    issued: u64,
    rejected: u64,
    open: u64,
    processing_ms: Vec<i64>,
    overdue: u64,
    commitments_missed: u64,
    sign_offs: u64,
    sign_offs_rejected: u64,
    sign_off_ms: Vec<i64>,
    /// The title of the most recently opened request, with its opening time.
    title: Option<(i64, &'a str)>,
}

impl<'a> Tally<'a> {
    fn add_request(&mut self, request: &'a RequestFacts, now_ms: i64) {
        self.requests += 1;
        match request.outcome {
            Outcome::Open => self.open += 1,
            Outcome::Issued => self.issued += 1,
            Outcome::Rejected => self.rejected += 1,
        }
        // At the deadline itself a request is still on time, as in `calendar::time_left`.
        let finished_or_now = match request.closed_at_ms {
            Some(closed) => {
                self.processing_ms
                    .push(closed.saturating_sub(request.opened_at_ms));
                closed
            }
            None => now_ms,
        };
        if finished_or_now > request.deadline_ms {
            self.overdue += 1;
        }
        if request.commitment_missed {
            self.commitments_missed += 1;
        }
        if self
            .title
            .is_none_or(|(opened, _)| request.opened_at_ms >= opened)
        {
            self.title = Some((request.opened_at_ms, &request.template_title));
        }
    }

    fn add_sign_off(&mut self, sign_off: &SignOffFacts, opened_at_ms: i64) {
        match sign_off.decision {
            Decision::Pending => return,
            Decision::Approved => {}
            Decision::Rejected => self.sign_offs_rejected += 1,
        }
        self.sign_offs += 1;
        if let Some(decided) = sign_off.decided_at_ms {
            self.sign_off_ms.push(decided.saturating_sub(opened_at_ms));
        }
    }

    fn into_row(self, scope: Scope, key: &str) -> EfficiencyRow {
        EfficiencyRow {
            scope,
            key: key.to_string(),
            title: match scope {
                Scope::Template => self.title.map(|(_, title)| title.to_string()),
                Scope::Department => None,
            },
            requests: self.requests,
            issued: self.issued,
            rejected: self.rejected,
            open: self.open,
            median_processing_ms: percentile(&self.processing_ms, 50),
            p90_processing_ms: percentile(&self.processing_ms, 90),
            overdue: self.overdue,
            commitments_missed: self.commitments_missed,
            sign_offs: self.sign_offs,
            sign_offs_rejected: self.sign_offs_rejected,
            median_sign_off_ms: percentile(&self.sign_off_ms, 50),
            p90_sign_off_ms: percentile(&self.sign_off_ms, 90),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn request(template: &str, department: &str) -> RequestFacts {
        RequestFacts {
            template_id: template.to_string(),
            template_title: format!("{template} title"),
            department: department.to_string(),
            sign_offs: Vec::new(),
            opened_at_ms: 0,
            deadline_ms: 100 * HOUR,
            closed_at_ms: None,
            outcome: Outcome::Open,
            commitment_missed: false,
        }
    }

    fn closed(mut facts: RequestFacts, at: i64, outcome: Outcome) -> RequestFacts {
        facts.closed_at_ms = Some(at);
        facts.outcome = outcome;
        facts
    }

    fn sign_off(department: &str, decision: Decision, at: Option<i64>) -> SignOffFacts {
        SignOffFacts {
            department: department.to_string(),
            decision,
            decided_at_ms: at,
        }
    }

    fn row<'a>(rows: &'a [EfficiencyRow], key: &str) -> &'a EfficiencyRow {
        rows.iter().find(|row| row.key == key).unwrap()
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        // The textbook example (Wikipedia, "Percentile", nearest-rank method).
        let values = [35, 20, 50, 15, 40];
        assert_eq!(percentile(&values, 5), Some(15));
        assert_eq!(percentile(&values, 30), Some(20));
        assert_eq!(percentile(&values, 40), Some(20));
        assert_eq!(percentile(&values, 50), Some(35));
        assert_eq!(percentile(&values, 100), Some(50));
        let ten: Vec<i64> = (1..=10).rev().collect();
        assert_eq!(percentile(&ten, 50), Some(5));
        assert_eq!(percentile(&ten, 90), Some(9));
        assert_eq!(percentile(&ten, 91), Some(10));
        assert_eq!(percentile(&ten, 0), Some(1));
        assert_eq!(percentile(&ten, u32::MAX), Some(10));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn overdue_counts_open_requests_past_the_deadline_and_late_closings() {
        let deadline = 100 * HOUR;
        let facts = [
            request("t", "A"),                                        // open, not yet due
            closed(request("t", "A"), deadline, Outcome::Issued), // closed at the deadline: on time
            closed(request("t", "A"), deadline + 1, Outcome::Issued), // closed late
            closed(request("t", "A"), 5 * HOUR, Outcome::Rejected), // closed early
        ];
        let on_time = efficiency(&facts, deadline);
        let templates = &on_time.templates;
        assert_eq!(templates.len(), 1);
        let t = &templates[0];
        assert_eq!((t.requests, t.issued, t.rejected, t.open), (4, 2, 1, 1));
        assert_eq!(t.overdue, 1);
        // The open request passes its deadline a millisecond later.
        assert_eq!(efficiency(&facts, deadline + 1).templates[0].overdue, 2);
        // Processing times cover closed requests only: 5 h, 100 h, 100 h + 1 ms.
        assert_eq!(t.median_processing_ms, Some(deadline));
        assert_eq!(t.p90_processing_ms, Some(deadline + 1));
    }

    #[test]
    fn departments_cover_own_templates_and_sign_offs_once_each() {
        let mut both = request("licence", "A");
        both.sign_offs = vec![
            sign_off("A", Decision::Approved, Some(2 * HOUR)),
            sign_off("B", Decision::Rejected, Some(3 * HOUR)),
            sign_off("C", Decision::Pending, None),
        ];
        both = closed(both, 4 * HOUR, Outcome::Rejected);
        let mut other = request("permit", "B");
        other.sign_offs = vec![sign_off("D", Decision::Approved, Some(HOUR))];
        other.commitment_missed = true;
        let report = efficiency(&[both, other], 200 * HOUR);

        let keys: Vec<&str> = report.departments.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["A", "B", "C", "D"]);
        let a = row(&report.departments, "A");
        assert_eq!((a.requests, a.rejected, a.sign_offs), (1, 1, 1));
        assert_eq!(a.median_sign_off_ms, Some(2 * HOUR));
        assert_eq!(a.title, None);
        let b = row(&report.departments, "B");
        assert_eq!(
            (b.requests, b.open, b.overdue, b.commitments_missed),
            (2, 1, 1, 1)
        );
        assert_eq!((b.sign_offs, b.sign_offs_rejected), (1, 1));
        assert_eq!(b.median_processing_ms, Some(4 * HOUR));
        // C's sign-off is awaited: the request is covered, but no decision is counted.
        let c = row(&report.departments, "C");
        assert_eq!(
            (c.requests, c.sign_offs, c.median_sign_off_ms),
            (1, 0, None)
        );
        // D only signs off on someone else's template.
        let d = row(&report.departments, "D");
        assert_eq!(
            (d.requests, d.sign_offs, d.p90_sign_off_ms),
            (1, 1, Some(HOUR))
        );

        let keys: Vec<&str> = report.templates.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["licence", "permit"]);
        for template in &report.templates {
            assert_eq!(template.scope, Scope::Template);
            assert_eq!((template.requests, template.sign_offs), (1, 0));
        }
        assert_eq!(report.templates[0].title.as_deref(), Some("licence title"));
    }

    #[test]
    fn a_template_row_takes_its_latest_title() {
        let mut old = request("t", "A");
        old.template_title = "Old".to_string();
        let mut new = request("t", "A");
        new.template_title = "New".to_string();
        new.opened_at_ms = 10;
        let report = efficiency(&[new.clone(), old.clone()], 0);
        assert_eq!(report.templates[0].title.as_deref(), Some("New"));
        let report = efficiency(&[old, new], 0);
        assert_eq!(report.templates[0].title.as_deref(), Some("New"));
    }

    #[test]
    fn an_empty_report_is_empty_and_serializes() {
        let report = efficiency(&[], 0);
        assert!(report.departments.is_empty() && report.templates.is_empty());
        assert_eq!(to_csv(&report), format!("{}\r\n", CSV_HEADER.join(",")));
        let json = serde_json::to_value(efficiency(&[request("t", "A")], 0)).unwrap();
        assert_eq!(json["departments"][0]["scope"], "department");
        assert_eq!(json["templates"][0]["scope"], "template");
        assert_eq!(
            json["templates"][0]["median_processing_ms"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn csv_has_a_header_departments_then_templates_and_crlf() {
        let facts = [closed(request("t1", "审批科"), 2 * HOUR, Outcome::Issued)];
        let csv = to_csv(&efficiency(&facts, 0));
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines.len(), 4, "{csv:?}");
        assert_eq!(lines[0], CSV_HEADER.join(","));
        assert_eq!(
            lines[1],
            "department,审批科,,1,1,0,0,7200000,7200000,0,0,0,0,,"
        );
        assert_eq!(
            lines[2],
            "template,t1,t1 title,1,1,0,0,7200000,7200000,0,0,0,0,,"
        );
        assert_eq!(lines[3], "");
        assert!(!csv.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(text_cell("plain 科室"), "plain 科室");
        assert_eq!(text_cell("a,b"), "\"a,b\"");
        assert_eq!(text_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(text_cell("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(text_cell("=1+2"), "'=1+2");
        assert_eq!(text_cell("+86"), "'+86");
        assert_eq!(text_cell("-1"), "'-1");
        assert_eq!(text_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text_cell("\tx"), "'\tx");
        assert_eq!(text_cell("\rx"), "\"'\rx\"");
        assert_eq!(
            text_cell("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(text_cell("a=b"), "a=b");
        assert_eq!(text_cell(""), "");

        let mut facts = request("=cmd|' /C calc'!A0", "@dept");
        facts.template_title = "Title, \"quoted\"".to_string();
        let csv = to_csv(&efficiency(&[facts], 0));
        assert!(csv.contains("\r\ndepartment,'@dept,,"), "{csv}");
        assert!(
            csv.contains("\r\ntemplate,'=cmd|' /C calc'!A0,\"Title, \"\"quoted\"\"\",1,"),
            "{csv}"
        );
    }
}
