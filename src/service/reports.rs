//! 效能评价: the efficiency report per department and per template over the requests opened in a
//! date range, computed by the pure `approval::report` from what the registry holds.

use super::{Bureau, Identity, ServiceError, require};
use crate::approval::report::{
    Decision as FactDecision, EfficiencyReport, Outcome, RequestFacts, SignOffFacts, efficiency,
};
use crate::registry::{Decision, ReportRow, RequestStatus, Role};

/// Days a report covers when the query names no range.
const DEFAULT_RANGE_DAYS: i64 = 30;
/// Widest range one report covers: a few years of requests.
const MAX_RANGE_DAYS: i64 = 366 * 3;

impl Bureau {
    /// The report over requests opened from `from` to `until` (bureau days, both included;
    /// by default the last 30 days up to today), with the range it covers.
    pub async fn efficiency_report(
        &self,
        caller: &Identity,
        from: Option<time::Date>,
        until: Option<time::Date>,
    ) -> Result<(time::Date, time::Date, EfficiencyReport), ServiceError> {
        require(
            caller,
            &[Role::Admin, Role::Auditor],
            "read the efficiency report",
        )?;
        let until = until.unwrap_or_else(|| self.now().date());
        let from = from.unwrap_or_else(|| {
            until
                .checked_sub(time::Duration::days(DEFAULT_RANGE_DAYS - 1))
                .unwrap_or(until)
        });
        if until < from || (until - from).whole_days() > MAX_RANGE_DAYS {
            return Err(ServiceError::invalid(
                "report.invalid_range",
                format!(
                    "from must not be after until, and the range at most {MAX_RANGE_DAYS} days"
                ),
            ));
        }
        let offset = self.now().offset();
        let start =
            |day: time::Date| super::certificates::unix_ms(day.midnight().assume_offset(offset));
        let end_day = until.next_day().ok_or_else(|| {
            ServiceError::invalid("report.invalid_range", "until is out of range")
        })?;
        let (from_ms, until_ms) = (start(from), start(end_day));
        let rows = self.registry().report_rows(from_ms, until_ms).await?;
        let facts: Vec<RequestFacts> = rows.iter().map(facts).collect();
        Ok((from, until, efficiency(&facts, self.now_ms())))
    }
}

fn facts(record: &ReportRow) -> RequestFacts {
    RequestFacts {
        template_id: record.template_id.clone(),
        template_title: record.template_title.clone(),
        department: record.department.clone(),
        sign_offs: record
            .sign_offs
            .iter()
            .map(|s| SignOffFacts {
                department: s.department.clone(),
                decision: match s.decision {
                    Decision::Pending => FactDecision::Pending,
                    Decision::Approved => FactDecision::Approved,
                    Decision::Rejected => FactDecision::Rejected,
                },
                decided_at_ms: s.decided_at_ms,
            })
            .collect(),
        opened_at_ms: record.opened_at_ms,
        deadline_ms: record.deadline_ms,
        closed_at_ms: record.closed_at_ms,
        outcome: match record.status {
            RequestStatus::Issued => Outcome::Issued,
            RequestStatus::Rejected => Outcome::Rejected,
            _ => Outcome::Open,
        },
        commitment_missed: record.commitment_missed,
    }
}
