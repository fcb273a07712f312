//! The bureau's working-day calendar and the committed time limits (承诺办结时限) counted on it.
//!
//! Limits are counted in working days, statutory holidays excluded (行政许可法 第八十二条); the
//! day of acceptance is not counted (民法典 第二百零一条) and the last day ends at 24:00
//! (民法典 第二百零三条). Pure: "now" is always passed in.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::Serialize;
use time::{Date, Duration, OffsetDateTime, Weekday};

/// How far `add_working_days` looks before giving up: 20 years, so a calendar that marks every
/// day a holiday (a mistake or a hostile admin) costs a bounded scan instead of a hang.
const MAX_SCAN_DAYS: u32 = 20 * 366;

/// What the State Council's yearly holiday notice says about one day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DayKind {
    /// 法定节假日 (or a bridging day off) that would otherwise be a working weekday.
    Holiday,
    /// 调休上班: a make-up working day on a Saturday or Sunday.
    Workday,
}

impl DayKind {
    /// The name stored in `calendar_days.kind` and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    /// The inverse of `as_str`; exact, lowercase only.
    pub fn parse(text: &str) -> Option<DayKind> {
        match text {
            "holiday" => Some(DayKind::Holiday),
            "workday" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

/// The days that differ from a plain Monday–Friday week.
#[derive(Clone, Debug, Default)]
pub struct WorkCalendar {
    days: BTreeMap<Date, DayKind>,
}

impl WorkCalendar {
    /// A calendar from its marked days; a later entry for the same day replaces an earlier one.
    pub fn new(days: impl IntoIterator<Item = (Date, DayKind)>) -> WorkCalendar {
        WorkCalendar {
            days: days.into_iter().collect(),
        }
    }

    /// Monday–Friday unless marked Holiday; Saturday/Sunday only when marked Workday.
    pub fn is_working_day(&self, day: Date) -> bool {
        match self.days.get(&day) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !is_weekend(day),
        }
    }

    /// The `n`th working day after `start`, `start` itself not counted (民法典 第二百零一条);
    /// `n = 0` gives `start`. None when not found within 20 years, or on date overflow.
    pub fn add_working_days(&self, start: Date, n: u32) -> Option<Date> {
        if n == 0 {
            return Some(start);
        }
        // A scan of MAX_SCAN_DAYS days cannot find more working days than it has days.
        if n > MAX_SCAN_DAYS {
            return None;
        }
        let mut day = start;
        let mut found = 0;
        for _ in 0..MAX_SCAN_DAYS {
            day = day.next_day()?;
            if self.is_working_day(day) {
                found += 1;
                if found == n {
                    return Some(day);
                }
            }
        }
        None
    }

    /// Working days in (from, to]; 0 when `to <= from`.
    ///
    /// Counted arithmetically (weekdays, then the marked days in range), so any span of dates
    /// costs the same as a short one.
    pub fn working_days_between(&self, from: Date, to: Date) -> i64 {
        if to <= from {
            return 0;
        }
        let span = i64::from(to.to_julian_day()) - i64::from(from.to_julian_day());
        let first = i64::from(from.weekday().number_days_from_monday());
        // Weekdays among the `span` days after `from`: 5 per whole week, then the rest one by one.
        let mut count = span / 7 * 5;
        for offset in 1..=span % 7 {
            if (first + offset) % 7 < 5 {
                count += 1;
            }
        }
        let marked = self
            .days
            .range((Bound::Excluded(from), Bound::Included(to)));
        for (day, kind) in marked {
            match (kind, is_weekend(*day)) {
                (DayKind::Holiday, false) => count -= 1,
                (DayKind::Workday, true) => count += 1,
                _ => {}
            }
        }
        count
    }
}

/// The deadline of a request opened at `opened_at` with a limit of `days` working days: 24:00
/// (the next day's 00:00) of the `days`th working day after the opening day, in `opened_at`'s
/// offset (民法典 第二百零三条). `days = 0` (即办件) ends with the opening day itself.
pub fn deadline(
    calendar: &WorkCalendar,
    opened_at: OffsetDateTime,
    days: u32,
) -> Option<OffsetDateTime> {
    let last = calendar.add_working_days(opened_at.date(), days)?;
    Some(
        last.next_day()?
            .midnight()
            .assume_offset(opened_at.offset()),
    )
}

/// How much of a committed time limit is left, for the officer's list and the applicant's page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TimeLeft {
    /// `now` is after the deadline; at the deadline itself the request is not yet overdue.
    pub overdue: bool,
    /// `deadline - now` in milliseconds, negative when overdue (saturating).
    pub ms: i64,
    /// Not overdue: working days from today (counted when it is a working day) up to and
    /// including the deadline's last day, so 1 means "due today" and 0 only happens exactly at
    /// the deadline. Overdue: minus the working days after the last day up to and including
    /// today, and at most -1, so an overdue request never shows 0 (a Saturday after a Friday
    /// deadline shows -1, as does the Monday after it; Tuesday shows -2).
    pub working_days: i64,
}

/// The time left before `deadline` at `now`; days are those of the deadline's offset.
pub fn time_left(
    calendar: &WorkCalendar,
    now: OffsetDateTime,
    deadline: OffsetDateTime,
) -> TimeLeft {
    let difference = (deadline - now).whole_milliseconds();
    let ms = i64::try_from(difference).unwrap_or(if difference < 0 { i64::MIN } else { i64::MAX });
    let overdue = now > deadline;
    let today = now
        .checked_to_offset(deadline.offset())
        .unwrap_or(now)
        .date();
    // The deadline is 24:00 of its last day, so the last day is the one just before it.
    let last = deadline
        .checked_sub(Duration::NANOSECOND)
        .unwrap_or(deadline)
        .date();
    let working_days = if overdue {
        -calendar.working_days_between(last, today).max(1)
    } else if today > last {
        0
    } else {
        calendar.working_days_between(today, last) + i64::from(calendar.is_working_day(today))
    };
    TimeLeft {
        overdue,
        ms,
        working_days,
    }
}

/// A calendar day written strictly as YYYY-MM-DD (ISO 8601 extended calendar date).
pub fn parse_day(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let digits = |part: &str| -> Option<u16> {
        if part.bytes().all(|byte| byte.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let month = time::Month::try_from(u8::try_from(digits(month)?).ok()?).ok()?;
    let day = u8::try_from(digits(day)?).ok()?;
    Date::from_calendar_date(i32::from(digits(year)?), month, day).ok()
}

/// The inverse of `parse_day` for years 0–9999.
pub fn format_day(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

fn is_weekend(day: Date) -> bool {
    matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    /// China's 2024 National Day: 10-01..10-07 off, Sunday 09-29 and Saturday 10-12 worked
    /// (国务院办公厅 2024 年部分节假日安排), and New Year's Day 2025. Test data only.
    fn china_autumn_2024() -> WorkCalendar {
        let mut days = vec![
            (date!(2024 - 09 - 29), DayKind::Workday),
            (date!(2024 - 10 - 12), DayKind::Workday),
            (date!(2025 - 01 - 01), DayKind::Holiday),
        ];
        let mut day = date!(2024 - 10 - 01);
        while day <= date!(2024 - 10 - 07) {
            days.push((day, DayKind::Holiday));
            day = day.next_day().unwrap();
        }
        WorkCalendar::new(days)
    }

    #[test]
    fn day_kind_names_round_trip() {
        for kind in [DayKind::Holiday, DayKind::Workday] {
            assert_eq!(DayKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        assert_eq!(DayKind::parse("Holiday"), None);
        assert_eq!(DayKind::parse(""), None);
    }

    #[test]
    fn a_plain_week_skips_the_weekend() {
        let calendar = WorkCalendar::default();
        let monday = date!(2024 - 06 - 03);
        assert_eq!(
            calendar.add_working_days(monday, 1),
            Some(date!(2024 - 06 - 04))
        );
        assert_eq!(
            calendar.add_working_days(monday, 4),
            Some(date!(2024 - 06 - 07))
        );
        assert_eq!(
            calendar.add_working_days(monday, 5),
            Some(date!(2024 - 06 - 10))
        );
        assert_eq!(
            calendar.add_working_days(monday, 10),
            Some(date!(2024 - 06 - 17))
        );
        assert!(calendar.is_working_day(monday));
        assert!(!calendar.is_working_day(date!(2024 - 06 - 08)));
        assert!(!calendar.is_working_day(date!(2024 - 06 - 09)));
    }

    #[test]
    fn opened_on_a_weekend_counts_from_monday() {
        let calendar = WorkCalendar::default();
        let saturday = date!(2024 - 06 - 08);
        assert_eq!(
            calendar.add_working_days(saturday, 1),
            Some(date!(2024 - 06 - 10))
        );
        assert_eq!(
            calendar.add_working_days(date!(2024 - 06 - 09), 5),
            Some(date!(2024 - 06 - 14))
        );
    }

    #[test]
    fn zero_days_is_the_start_even_on_a_holiday() {
        let calendar = china_autumn_2024();
        for start in [
            date!(2024 - 06 - 03),
            date!(2024 - 06 - 08),
            date!(2024 - 10 - 02),
        ] {
            assert_eq!(calendar.add_working_days(start, 0), Some(start));
        }
    }

    #[test]
    fn a_make_up_saturday_is_worked() {
        let calendar = china_autumn_2024();
        assert!(calendar.is_working_day(date!(2024 - 10 - 12)));
        // Friday 10-11 + 1 is the make-up Saturday, not Monday.
        assert_eq!(
            calendar.add_working_days(date!(2024 - 10 - 11), 1),
            Some(date!(2024 - 10 - 12))
        );
    }

    #[test]
    fn the_national_day_week_is_skipped_and_its_make_up_days_counted() {
        let calendar = china_autumn_2024();
        let friday = date!(2024 - 09 - 27);
        let expected = [
            (1, date!(2024 - 09 - 29)), // the make-up Sunday
            (2, date!(2024 - 09 - 30)),
            (3, date!(2024 - 10 - 08)), // the whole week off skipped
            (6, date!(2024 - 10 - 11)),
            (7, date!(2024 - 10 - 12)), // the make-up Saturday
            (8, date!(2024 - 10 - 14)),
        ];
        for (n, day) in expected {
            assert_eq!(calendar.add_working_days(friday, n), Some(day), "n = {n}");
            assert_eq!(calendar.working_days_between(friday, day), i64::from(n));
        }
        // Opened on a holiday: counting starts with the next working day.
        assert_eq!(
            calendar.add_working_days(date!(2024 - 10 - 03), 1),
            Some(date!(2024 - 10 - 08))
        );
    }

    #[test]
    fn working_days_between_counts_the_half_open_span() {
        let calendar = china_autumn_2024();
        let monday = date!(2024 - 06 - 03);
        assert_eq!(calendar.working_days_between(monday, monday), 0);
        assert_eq!(
            calendar.working_days_between(date!(2024 - 06 - 10), monday),
            0
        );
        assert_eq!(
            calendar.working_days_between(monday, date!(2024 - 06 - 09)),
            4
        );
        assert_eq!(
            calendar.working_days_between(monday, date!(2024 - 06 - 10)),
            5
        );
        // September 2024 has 21 weekdays, plus the make-up Sunday.
        assert_eq!(
            calendar.working_days_between(date!(2024 - 08 - 31), date!(2024 - 09 - 30)),
            22
        );
        // October 2024: 23 weekdays, five of them off, plus the make-up Saturday.
        assert_eq!(
            calendar.working_days_between(date!(2024 - 09 - 30), date!(2024 - 10 - 31)),
            19
        );
        // The widest span the type allows costs no more than a short one.
        let all = calendar.working_days_between(Date::MIN, Date::MAX);
        assert!(all > 5_000_000, "{all}");
    }

    #[test]
    fn working_days_between_agrees_with_counting_day_by_day() {
        let calendar = china_autumn_2024();
        let mut from = date!(2024 - 09 - 20);
        while from < date!(2024 - 10 - 20) {
            let mut to = from;
            let mut counted = 0;
            for _ in 0..40 {
                to = to.next_day().unwrap();
                counted += i64::from(calendar.is_working_day(to));
                assert_eq!(
                    calendar.working_days_between(from, to),
                    counted,
                    "{from}..{to}"
                );
            }
            from = from.next_day().unwrap();
        }
    }

    #[test]
    fn a_deadline_crosses_the_year_end() {
        let calendar = china_autumn_2024();
        let opened = datetime!(2024-12-30 16:45 +08:00);
        // Tue 12-31, (Wed 01-01 off), Thu 01-02, Fri 01-03; due at 24:00 that Friday.
        assert_eq!(
            deadline(&calendar, opened, 3),
            Some(datetime!(2025-01-04 00:00 +08:00))
        );
    }

    #[test]
    fn a_deadline_is_the_end_of_its_last_day_in_the_opening_offset() {
        let calendar = china_autumn_2024();
        // 2024-06-07 23:30 UTC is already Saturday in Beijing: counting starts on Monday.
        let opened = datetime!(2024-06-07 23:30 UTC).to_offset(time::macros::offset!(+8));
        assert_eq!(
            deadline(&calendar, opened, 1),
            Some(datetime!(2024-06-11 00:00 +08:00))
        );
        // 即办件: the end of the opening day, even a holiday.
        assert_eq!(
            deadline(&calendar, datetime!(2024-10-02 09:00 +08:00), 0),
            Some(datetime!(2024-10-03 00:00 +08:00))
        );
        // Opened during the National Day week, 20 working days (行政许可法 第四十二条).
        assert_eq!(
            deadline(&calendar, datetime!(2024-10-03 10:00 +08:00), 20),
            Some(datetime!(2024-11-02 00:00 +08:00))
        );
    }

    #[test]
    fn time_left_before_at_and_after_the_deadline() {
        let calendar = WorkCalendar::default();
        // Opened Monday 06-03 with 3 days: due at the end of Thursday 06-06.
        let due = deadline(&calendar, datetime!(2024-06-03 09:00 +08:00), 3).unwrap();
        assert_eq!(due, datetime!(2024-06-07 00:00 +08:00));
        let at = |now| time_left(&calendar, now, due);

        let monday = at(datetime!(2024-06-03 09:00 +08:00));
        assert!(!monday.overdue);
        assert_eq!(monday.working_days, 4); // Monday itself still counts
        assert_eq!(monday.ms, (3 * 24 + 15) * 3_600_000);

        let thursday = at(datetime!(2024-06-06 23:59 +08:00));
        assert_eq!((thursday.overdue, thursday.working_days), (false, 1));
        assert_eq!(thursday.ms, 60_000);

        let exactly = at(due);
        assert_eq!(
            exactly,
            TimeLeft {
                overdue: false,
                ms: 0,
                working_days: 0
            }
        );

        let friday = at(datetime!(2024-06-07 00:00:00.001 +08:00));
        assert_eq!(
            (friday.overdue, friday.ms, friday.working_days),
            (true, -1, -1)
        );
        let saturday = at(datetime!(2024-06-08 12:00 +08:00));
        assert_eq!((saturday.overdue, saturday.working_days), (true, -1));
        let next_monday = at(datetime!(2024-06-10 12:00 +08:00));
        assert_eq!(next_monday.working_days, -2);
        assert_eq!(next_monday.ms, -(3 * 24 + 12) * 3_600_000);
    }

    #[test]
    fn time_left_counts_days_in_the_deadline_offset() {
        let calendar = WorkCalendar::default();
        let due = datetime!(2024-06-07 00:00 +08:00);
        // 20:00 UTC on Wednesday is already Thursday in Beijing: one day left.
        let left = time_left(&calendar, datetime!(2024-06-05 20:00 UTC), due);
        assert_eq!((left.overdue, left.working_days), (false, 1));
    }

    #[test]
    fn time_left_on_a_weekend_before_a_monday_deadline() {
        let calendar = WorkCalendar::default();
        let due = datetime!(2024-06-11 00:00 +08:00);
        let left = time_left(&calendar, datetime!(2024-06-08 10:00 +08:00), due);
        assert_eq!((left.overdue, left.working_days), (false, 1));
    }

    #[test]
    fn time_left_saturates_on_extreme_instants() {
        let calendar = WorkCalendar::default();
        let early = Date::MIN.midnight().assume_utc();
        let late = Date::MAX.midnight().assume_utc();
        let left = time_left(&calendar, early, late);
        assert!(!left.overdue && left.ms > 0 && left.working_days > 0);
        let left = time_left(&calendar, late, early);
        assert!(left.overdue && left.ms < 0 && left.working_days < 0);
    }

    #[test]
    fn a_hostile_calendar_gives_up_quickly() {
        // Every weekday of 30 years a holiday: no working day exists within the 20-year scan.
        let mut days = Vec::new();
        let mut day = date!(2000 - 01 - 01);
        while day < date!(2030 - 01 - 01) {
            if !is_weekend(day) {
                days.push((day, DayKind::Holiday));
            }
            day = day.next_day().unwrap();
        }
        let calendar = WorkCalendar::new(days);
        let started = std::time::Instant::now();
        assert_eq!(calendar.add_working_days(date!(2000 - 01 - 01), 1), None);
        assert_eq!(calendar.add_working_days(date!(2000 - 01 - 01), 365), None);
        assert_eq!(
            calendar.add_working_days(date!(2000 - 01 - 01), u32::MAX),
            None
        );
        assert_eq!(
            deadline(&calendar, datetime!(2010-01-01 0:00 UTC), 20),
            None
        );
        assert_eq!(
            calendar.working_days_between(date!(1999 - 12 - 31), date!(2029 - 12 - 31)),
            0
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn counting_past_the_last_date_is_none() {
        let calendar = WorkCalendar::default();
        assert_eq!(calendar.add_working_days(Date::MAX, 1), None);
        assert_eq!(
            deadline(&calendar, Date::MAX.midnight().assume_utc(), 0),
            None
        );
    }

    #[test]
    fn days_parse_strictly() {
        assert_eq!(parse_day("2024-10-01"), Some(date!(2024 - 10 - 01)));
        assert_eq!(parse_day("2024-02-29"), Some(date!(2024 - 02 - 29)));
        for bad in [
            "",
            "2024-1-01",
            "2024-10-1",
            "24-10-01",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-10-00",
            "2024-10-01 ",
            " 2024-10-01",
            "+024-10-01",
            "2024-+1-01",
            "2024/10/01",
            "2024-10-01-",
            "20241001",
            "２０２４-10-01",
            "2024-10-3a",
        ] {
            assert_eq!(parse_day(bad), None, "{bad:?}");
        }
        for text in ["2024-10-01", "0001-01-01", "9999-12-31", "2025-01-01"] {
            assert_eq!(format_day(parse_day(text).unwrap()), text);
        }
    }
}
