//! Issuance approval arithmetic: working-day time limits, the efficiency report and webhook
//! signatures. Pure: the clock, the calendar and the facts are passed in.

pub mod calendar;
pub mod report;
pub mod webhook;

pub use calendar::{DayKind, TimeLeft, WorkCalendar};
pub use report::{EfficiencyReport, EfficiencyRow, RequestFacts, SignOffFacts};
