//! Committed time limits, 容缺后补, the dishonesty list and the efficiency report (issue 6), end
//! to end on a real server: the bureau's clock is moved with `ONESEAL_CLOCK_OFFSET_SECONDS` and a
//! restart, and every expected date is counted here by a working-day walk of our own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration as StdDuration, Instant};

use common::service::{
    Database, Service, bureau_day, day_text, expect_error, shipped_template, token_id,
};
use reqwest::Method;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime, UtcOffset, Weekday};

both_databases! {
    an_open_request_past_its_deadline_is_flagged_once => overdue_requests;
    a_missed_commitment_bars_the_applicant_until_supplied => commitments;
    the_efficiency_report_counts_what_happened => efficiency_report;
}

const FOOD: &str = "food-business-licence";
const PERMIT: &str = "construction-planning-permit";
const APPROVAL: &str = "approval-document";
/// The example data's applicant.
const EXAMPLE_CODE: &str = "91410700MA47U3K26U";
/// Further applicants; check digits by GB 32100-2015 §5 (worked out with a separate script).
const OTHER_CODES: [&str; 5] = [
    "91410700MA9H2DRW9H",
    "91410700MA0000001W",
    "91410700MA00000020",
    "91410700MA00000033",
    "91410700MA00000046",
];
const DAY_SECONDS: i64 = 86_400;

/// China Standard Time, the bureau's offset.
fn cst() -> UtcOffset {
    UtcOffset::from_hms(8, 0, 0).unwrap()
}

fn instant(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &Rfc3339).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn unix_ms(text: &str) -> i64 {
    i64::try_from(instant(text).unix_timestamp_nanos() / 1_000_000).unwrap()
}

/// A working-day calendar counted the slow, obvious way: one day at a time.
#[derive(Default)]
struct Calendar {
    holidays: BTreeSet<Date>,
    workdays: BTreeSet<Date>,
}

impl Calendar {
    fn is_working(&self, day: Date) -> bool {
        if self.holidays.contains(&day) {
            return false;
        }
        self.workdays.contains(&day)
            || !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// The `n`th working day after `start` (`start` not counted).
    fn nth_after(&self, start: Date, n: u32) -> Date {
        let mut day = start;
        let mut found = 0;
        while found < n {
            day = day.next_day().unwrap();
            if self.is_working(day) {
                found += 1;
            }
        }
        day
    }

    /// Working days from `first` to `last`, both included.
    fn count(&self, first: Date, last: Date) -> i64 {
        let mut day = first;
        let mut count = 0;
        while day <= last {
            count += i64::from(self.is_working(day));
            day = day.next_day().unwrap();
        }
        count
    }
}

/// 24:00 Beijing time at the end of `day`.
fn end_of(day: Date) -> OffsetDateTime {
    day.next_day().unwrap().midnight().assume_offset(cst())
}

/// A number from a shipped template's `[template]` table.
fn manifest_number(template: &str, key: &str) -> u32 {
    let manifest: toml::Value = toml::from_str(
        &std::fs::read_to_string(shipped_template(template).join("template.toml")).unwrap(),
    )
    .unwrap();
    u32::try_from(manifest["template"][key].as_integer().unwrap()).unwrap()
}

/// The shipped example of `template` for another applicant.
fn data_for(template: &str, credit_code: &str) -> Value {
    let mut data = Service::example_data(template);
    data["credit_code"] = json!(credit_code);
    data
}

fn commitment() -> Value {
    json!({
        "signatory": "张喆",
        "signed_on": day_text(bureau_day(0)),
        "reference": "新经开承诺〔2026〕17号",
    })
}

/// The body of a response with `status`, or a panic showing what came instead.
fn body(response: reqwest::blocking::Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let text = response.text().unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn open(
    service: &Service,
    issuer: &str,
    template: &str,
    extra: Value,
) -> reqwest::blocking::Response {
    let mut request = json!({ "template": template, "data": Service::example_data(template) });
    for (key, value) in extra.as_object().unwrap() {
        request[key] = value.clone();
    }
    service.post_json("/api/v1/requests", Some(issuer), &request)
}

/// Opens a request that must be accepted; returns its view.
fn opened(service: &Service, issuer: &str, template: &str, extra: Value) -> Value {
    body(open(service, issuer, template, extra), 201)
}

fn seal(service: &Service, issuer: &str, id: &str) -> String {
    let sealed = body(
        service.post_json(
            &format!("/api/v1/requests/{id}/seal"),
            Some(issuer),
            &json!({}),
        ),
        201,
    );
    sealed["serial"].as_str().unwrap().to_string()
}

fn view(service: &Service, token: &str, id: &str) -> Value {
    body(
        service.get(&format!("/api/v1/requests/{id}"), Some(token)),
        200,
    )
}

fn certificate(service: &Service, token: &str, serial: &str) -> Value {
    body(
        service.get(&format!("/api/v1/certificates/{serial}"), Some(token)),
        200,
    )
}

fn applicant(service: &Service, token: &str, code: &str) -> Value {
    body(
        service.get(&format!("/api/v1/applicants/{code}"), Some(token)),
        200,
    )
}

/// Ids of the requests a listing returns, sorted.
fn listed(service: &Service, token: &str, query: &str) -> Vec<String> {
    let found = body(
        service.get(&format!("/api/v1/requests{query}"), Some(token)),
        200,
    );
    let mut ids: Vec<String> = found["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<&str>) -> Vec<String> {
    ids.sort_unstable();
    ids.into_iter().map(str::to_string).collect()
}

/// Every audit entry, as an auditor reads them.
fn audit(service: &Service, auditor: &str) -> Vec<Value> {
    let trail = body(service.get("/api/v1/audit?limit=1000", Some(auditor)), 200);
    let entries = trail["entries"].as_array().unwrap().clone();
    // The length is read after the entries: the sweep may have appended one in between.
    assert!(
        trail["length"].as_i64().unwrap() < 1000,
        "the trail fits in one page"
    );
    entries
}

/// How many audit entries record `action` on `subject`.
fn audited(service: &Service, auditor: &str, action: &str, subject: &str) -> usize {
    audit(service, auditor)
        .iter()
        .filter(|e| e["action"] == action && e["subject"] == subject)
        .count()
}

/// Polls `done` until it holds (the deadline sweep runs in the background).
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < StdDuration::from_secs(30),
            "timed out waiting until {what}"
        );
        std::thread::sleep(StdDuration::from_millis(100));
    }
}

/// Restarts the service on the same data with the bureau's clock `days` ahead of the real one.
fn restart_days_ahead(service: &mut Service, days: i64) {
    service
        .env
        .retain(|(key, _)| key != "ONESEAL_CLOCK_OFFSET_SECONDS");
    service.env.push((
        "ONESEAL_CLOCK_OFFSET_SECONDS".into(),
        (days * DAY_SECONDS).to_string(),
    ));
    service.restart();
}

/// A service whose deadline sweep runs every second.
fn start(database: Database) -> Service {
    Service::start_with(database, &[("ONESEAL_SWEEP_INTERVAL_SECONDS", "1")])
}

fn set_day(
    service: &Service,
    token: &str,
    day: &str,
    change: &Value,
) -> reqwest::blocking::Response {
    service
        .request(Method::PUT, &format!("/api/v1/calendar/{day}"), Some(token))
        .json(change)
        .send()
        .unwrap()
}

/// Holidays and a make-up working day move the deadline exactly as a day-by-day count says.
#[test]
fn deadlines_follow_the_working_day_calendar() {
    let service = Service::start(Database::Sqlite);
    service.install_template(PERMIT, "自然资源和规划局");
    let admin = service.token("admin", None, "办公室");
    let issuer = service.token("issuer", None, "窗口 1");
    let auditor = service.token("auditor", None, "审计");
    let limit = manifest_number(PERMIT, "time_limit_days");

    // The next three weekdays are holidays, the Saturday after them a make-up working day, and
    // the Monday after that is marked a holiday and then returned to normal.
    let today = bureau_day(0);
    let mut calendar = Calendar::default();
    let mut day = today;
    while calendar.holidays.len() < 3 {
        day = day.next_day().unwrap();
        if calendar.is_working(day) {
            calendar.holidays.insert(day);
        }
    }
    while day.weekday() != Weekday::Saturday {
        day = day.next_day().unwrap();
    }
    let saturday = day;
    calendar.workdays.insert(saturday);
    let monday = saturday.next_day().unwrap().next_day().unwrap();

    let mut changes: Vec<(String, &str)> = Vec::new();
    for holiday in &calendar.holidays {
        changes.push((day_text(*holiday), "holiday"));
    }
    changes.push((day_text(saturday), "workday"));
    changes.push((day_text(monday), "holiday"));
    changes.push((day_text(monday), "normal"));
    for (day, kind) in &changes {
        let answer = body(
            set_day(
                &service,
                &admin,
                day,
                &json!({ "kind": kind, "name": "国庆节" }),
            ),
            200,
        );
        assert!(answer["days"].is_array(), "{answer}");
    }
    let days = body(service.get("/api/v1/calendar", Some(&issuer)), 200);
    let shown: Vec<(String, String)> = days["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["day"].as_str().unwrap().to_string(),
                d["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut expected: Vec<(String, String)> = changes[..4]
        .iter()
        .map(|(day, kind)| (day.clone(), (*kind).to_string()))
        .collect();
    expected.sort();
    assert_eq!(shown, expected, "the Monday is normal again");

    let request = opened(&service, &issuer, PERMIT, json!({}));
    let opened_on = instant(request["opened_at"].as_str().unwrap())
        .to_offset(cst())
        .date();
    let last = calendar.nth_after(opened_on, limit);
    assert_eq!(request["time_limit_days"], i64::from(limit));
    assert_eq!(
        instant(request["deadline"].as_str().unwrap()),
        end_of(last),
        "{limit} working days after {opened_on} end with {last}: {request}"
    );
    // Not a plain Monday–Friday count: the holidays and the make-up day both moved it.
    assert_ne!(last, Calendar::default().nth_after(opened_on, limit));
    let left = &request["time_left"];
    assert_eq!(left["overdue"], false, "{request}");
    assert_eq!(
        left["working_days"].as_i64().unwrap(),
        calendar.count(opened_on, last),
        "{request}"
    );
    let ms = left["ms"].as_i64().unwrap();
    let expected_ms =
        i64::try_from((end_of(last) - OffsetDateTime::now_utc()).whole_milliseconds()).unwrap();
    assert!((expected_ms - ms).abs() < 60_000, "{ms} vs {expected_ms}");

    // A deadline already given keeps its date when the calendar changes later; the working days
    // left are counted on the calendar as it is now.
    let id = request["id"].as_str().unwrap();
    body(
        set_day(
            &service,
            &admin,
            &day_text(last),
            &json!({ "kind": "holiday", "name": "闭馆" }),
        ),
        200,
    );
    calendar.workdays.remove(&last);
    calendar.holidays.insert(last);
    changes.push((day_text(last), "holiday"));
    let again = view(&service, &issuer, id);
    assert_eq!(again["deadline"], request["deadline"], "{again}");
    assert_eq!(
        again["time_left"]["working_days"].as_i64().unwrap(),
        calendar.count(opened_on, last),
        "{again}"
    );
    assert_eq!(
        again["time_left"]["working_days"].as_i64().unwrap(),
        left["working_days"].as_i64().unwrap() - 1
    );

    // Only admins change the calendar; bad days and kinds are named.
    for token in [&issuer, &auditor] {
        let refused = set_day(
            &service,
            token,
            &day_text(today),
            &json!({ "kind": "holiday" }),
        );
        expect_error(refused, 403, "auth.forbidden");
    }
    let error = expect_error(
        set_day(
            &service,
            &admin,
            "2026-02-30",
            &json!({ "kind": "holiday" }),
        ),
        422,
        "calendar.invalid_day",
    );
    assert!(
        error["message"].as_str().unwrap().contains("YYYY-MM-DD"),
        "{error}"
    );
    let error = expect_error(
        set_day(
            &service,
            &admin,
            &day_text(today),
            &json!({ "kind": "festival" }),
        ),
        422,
        "calendar.invalid_kind",
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("holiday, workday or normal"),
        "{error}"
    );

    // Each change, and only the changes, is in the trail, by the admin.
    let trail: Vec<(String, String)> = audit(&service, &auditor)
        .iter()
        .filter(|e| e["action"] == "calendar.changed")
        .map(|e| {
            assert!(
                e["actor"].as_str().unwrap().contains(token_id(&admin)),
                "{e}"
            );
            let details: Value = serde_json::from_str(e["details"].as_str().unwrap()).unwrap();
            (
                e["subject"].as_str().unwrap().to_string(),
                details["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let changes: Vec<(String, String)> = changes
        .into_iter()
        .map(|(day, kind)| (day, kind.to_string()))
        .collect();
    assert_eq!(trail, changes);
}

/// An open request past its deadline is listed as overdue and flagged once in the trail.
fn overdue_requests(database: Database) {
    let mut service = start(database);
    service.install_template(PERMIT, "自然资源和规划局");
    service.install_template(APPROVAL, "发展和改革局");
    let issuer = service.token("issuer", None, "窗口 1");
    let admin = service.token("admin", None, "办公室");
    let auditor = service.token("auditor", None, "审计");
    let housing = service.token("reviewer", Some("住房和城乡建设局"), "住建 审查");
    let ecology = service.token("reviewer", Some("生态环境分局"), "生态 审查");
    let planning = service.token("reviewer", Some("自然资源和规划局"), "规划 审查");

    let in_time_serial = service.issue_example_via_request(&issuer, PERMIT);
    let in_time = certificate(&service, &admin, &in_time_serial)["request"]
        .as_str()
        .unwrap()
        .to_string();
    let late = opened(&service, &issuer, PERMIT, json!({}));
    let late_id = late["id"].as_str().unwrap().to_string();
    let other = opened(&service, &issuer, APPROVAL, json!({}));
    let other_id = other["id"].as_str().unwrap().to_string();
    assert!(listed(&service, &admin, "?overdue=true").is_empty());
    assert_eq!(late["overdue"], false);

    restart_days_ahead(&mut service, 40);
    wait_until("the sweep flags both open requests", || {
        audited(&service, &auditor, "request.overdue", &late_id) == 1
            && audited(&service, &auditor, "request.overdue", &other_id) == 1
    });
    let both = sorted(vec![late_id.as_str(), other_id.as_str()]);
    assert_eq!(listed(&service, &admin, "?overdue=true"), both);
    assert_eq!(listed(&service, &issuer, "?overdue=true"), both);

    let shown = view(&service, &admin, &late_id);
    assert_eq!(shown["overdue"], true, "{shown}");
    assert_eq!(shown["status"], "review");
    let left = &shown["time_left"];
    assert_eq!(left["overdue"], true, "{shown}");
    assert!(
        left["ms"].as_i64().unwrap() < -20 * DAY_SECONDS * 1000,
        "{shown}"
    );
    let last = instant(shown["deadline"].as_str().unwrap())
        .to_offset(cst())
        .date()
        .previous_day()
        .unwrap();
    let late_by = Calendar::default().count(last.next_day().unwrap(), bureau_day(40));
    assert!(late_by > 10, "{late_by}");
    assert_eq!(left["working_days"].as_i64().unwrap(), -late_by, "{shown}");

    // Closed in time: never flagged.
    let closed = view(&service, &admin, &in_time);
    assert_eq!(closed["status"], "issued");
    assert_eq!(closed["overdue"], false, "{closed}");
    assert!(closed["time_left"].is_null(), "{closed}");
    assert_eq!(audited(&service, &auditor, "request.overdue", &in_time), 0);

    // A reviewer sees only requests needing their department (the permit's own department,
    // 自然资源和规划局, does not sign it off; it signs off the approval document).
    assert_eq!(listed(&service, &housing, "?overdue=true"), both);
    assert_eq!(
        listed(&service, &ecology, "?overdue=true"),
        vec![other_id.clone()]
    );
    assert_eq!(
        listed(&service, &planning, "?overdue=true"),
        vec![other_id.clone()]
    );
    expect_error(
        service.get(&format!("/api/v1/requests/{late_id}"), Some(&ecology)),
        404,
        "not_found",
    );
    assert_eq!(view(&service, &housing, &late_id)["id"], late_id.as_str());

    // Another restart further ahead: a request opened now becomes overdue there, which shows the
    // sweep ran again; the first two are still flagged exactly once.
    let sentinel = opened(&service, &issuer, PERMIT, json!({}));
    let sentinel_id = sentinel["id"].as_str().unwrap().to_string();
    assert_eq!(sentinel["overdue"], false);
    assert_eq!(listed(&service, &admin, "?overdue=true"), both);
    restart_days_ahead(&mut service, 80);
    wait_until("the sweep flags the request opened at +40 days", || {
        audited(&service, &auditor, "request.overdue", &sentinel_id) == 1
    });
    std::thread::sleep(StdDuration::from_millis(2500)); // two more sweeps
    for id in [&late_id, &other_id, &sentinel_id] {
        assert_eq!(
            audited(&service, &auditor, "request.overdue", id),
            1,
            "{id}"
        );
    }
    assert_eq!(audited(&service, &auditor, "request.overdue", &in_time), 0);
    assert_eq!(
        listed(&service, &admin, "?overdue=true"),
        sorted(vec![
            late_id.as_str(),
            other_id.as_str(),
            sentinel_id.as_str()
        ])
    );
}

/// 容缺后补: issued at once against a commitment; a missed deadline bars the applicant from the
/// 容缺 path until the material arrives; one supplied in time is never missed.
fn commitments(database: Database) {
    let mut service = start(database);
    service.install_template(FOOD, "市场监督管理局");
    let issuer = service.token("issuer", None, "窗口 1");
    let auditor = service.token("auditor", None, "审计");
    let supply_days = manifest_number(FOOD, "supply_within_days");
    let health = json!(["从业人员健康证明"]);

    // Refusals name the problem.
    let refused = expect_error(
        open(
            &service,
            &issuer,
            FOOD,
            json!({ "missing_materials": ["营业执照"], "commitment": commitment() }),
        ),
        422,
        "request.invalid_materials",
    );
    let problems = refused["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{refused}");
    assert_eq!(problems[0]["place"], "missing_materials[0]");
    let message = problems[0]["message"].as_str().unwrap();
    assert!(
        message.contains("营业执照") && message.contains("从业人员健康证明"),
        "{refused}"
    );
    let refused = expect_error(
        open(
            &service,
            &issuer,
            FOOD,
            json!({ "missing_materials": health }),
        ),
        422,
        "request.invalid_materials",
    );
    assert_eq!(refused["problems"][0]["place"], "commitment", "{refused}");
    assert!(
        refused["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("credit commitment"),
        "{refused}"
    );
    let refused = expect_error(
        open(
            &service,
            &issuer,
            FOOD,
            json!({ "commitment": commitment() }),
        ),
        422,
        "request.invalid_materials",
    );
    assert_eq!(refused["problems"][0]["place"], "commitment", "{refused}");
    assert!(
        refused["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("only recorded when materials are missing"),
        "{refused}"
    );

    // Another applicant supplies in time.
    let prompt_code = OTHER_CODES[0];
    let prompt = opened(
        &service,
        &issuer,
        FOOD,
        json!({
            "data": data_for(FOOD, prompt_code),
            "missing_materials": ["食品安全管理制度文本"],
            "commitment": commitment(),
        }),
    );
    let prompt_id = prompt["id"].as_str().unwrap().to_string();
    let prompt_serial = seal(&service, &issuer, &prompt_id);
    body(
        service.post_json(
            &format!("/api/v1/requests/{prompt_id}/materials"),
            Some(&issuer),
            &json!({ "materials": ["食品安全管理制度文本"] }),
        ),
        200,
    );
    assert_eq!(
        certificate(&service, &issuer, &prompt_serial)["commitment"]["state"],
        "fulfilled"
    );

    // The example applicant is issued at once, with the health certificates owed.
    let late = opened(
        &service,
        &issuer,
        FOOD,
        json!({ "missing_materials": health, "commitment": commitment() }),
    );
    assert_eq!(
        late["status"], "ready",
        "no sign-off: ready for the seal at once"
    );
    assert_eq!(late["missing_materials"], health);
    assert_eq!(late["commitment"]["signatory"], "张喆");
    let late_id = late["id"].as_str().unwrap().to_string();
    let serial = seal(&service, &issuer, &late_id);
    let issued = certificate(&service, &issuer, &serial);
    assert_eq!(issued["status"], "issued");
    assert_eq!(issued["request"], late_id.as_str());
    let owed = &issued["commitment"];
    assert_eq!(owed["state"], "open", "{issued}");
    assert_eq!(owed["materials"], health);
    assert_eq!(owed["outstanding"], health);
    let issued_on = instant(issued["issued_at"].as_str().unwrap())
        .to_offset(cst())
        .date();
    assert_eq!(
        instant(owed["deadline"].as_str().unwrap()),
        end_of(Calendar::default().nth_after(issued_on, supply_days)),
        "{supply_days} working days after {issued_on}: {owed}"
    );
    assert_eq!(applicant(&service, &issuer, EXAMPLE_CODE)["barred"], false);

    // Past the supply deadline the commitment is missed and the applicant barred.
    restart_days_ahead(&mut service, 40);
    wait_until("the sweep finds the missed commitment", || {
        certificate(&service, &issuer, &serial)["commitment"]["state"] == "missed"
    });
    let flagged = certificate(&service, &issuer, &serial)["commitment"].clone();
    assert!(flagged["missed_at"].is_string(), "{flagged}");
    assert_eq!(flagged["outstanding"], health);
    assert_eq!(audited(&service, &auditor, "commitment.missed", &serial), 1);
    let barred = applicant(&service, &issuer, EXAMPLE_CODE);
    assert_eq!(barred["barred"], true, "{barred}");
    let reasons = barred["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 1, "{barred}");
    assert!(reasons[0].as_str().unwrap().contains(&serial), "{barred}");
    assert_eq!(barred["commitments"][0]["state"], "missed");

    let refused = expect_error(
        open(
            &service,
            &issuer,
            FOOD,
            json!({ "missing_materials": health, "commitment": commitment() }),
        ),
        409,
        "request.applicant_barred",
    );
    assert!(
        refused["message"].as_str().unwrap().contains(&serial),
        "{refused}"
    );
    let complete = opened(&service, &issuer, FOOD, json!({}));
    assert_eq!(
        complete["status"], "ready",
        "every material supplied: accepted"
    );

    // The one supplied in time is still fulfilled, never missed.
    assert_eq!(
        certificate(&service, &issuer, &prompt_serial)["commitment"]["state"],
        "fulfilled"
    );
    assert_eq!(
        audited(&service, &auditor, "commitment.missed", &prompt_serial),
        0
    );
    let prompt_applicant = applicant(&service, &issuer, prompt_code);
    assert_eq!(prompt_applicant["barred"], false, "{prompt_applicant}");
    assert_eq!(prompt_applicant["commitments"][0]["state"], "fulfilled");

    // Supplying late makes it good: fulfilled (late), and the 容缺 path opens again.
    body(
        service.post_json(
            &format!("/api/v1/requests/{late_id}/materials"),
            Some(&issuer),
            &json!({ "materials": health }),
        ),
        200,
    );
    let made_good = certificate(&service, &issuer, &serial)["commitment"].clone();
    assert_eq!(made_good["state"], "fulfilled", "{made_good}");
    assert_eq!(made_good["outstanding"], json!([]));
    assert!(made_good["supplied_at"].is_string() && made_good["missed_at"].is_string());
    let cleared = applicant(&service, &issuer, EXAMPLE_CODE);
    assert_eq!(cleared["barred"], false, "{cleared}");
    assert!(cleared["reasons"].as_array().unwrap().is_empty());
    opened(
        &service,
        &issuer,
        FOOD,
        json!({ "missing_materials": health, "commitment": commitment() }),
    );
}

/// Admins list and unlist applicants; a listing in force closes only the 容缺 path.
#[test]
fn the_dishonesty_list_bars_only_the_rongque_path() {
    let service = Service::start(Database::Sqlite);
    service.install_template(FOOD, "市场监督管理局");
    let admin = service.token("admin", None, "信用科");
    let issuer = service.token("issuer", None, "窗口 1");
    let reviewer = service.token("reviewer", Some("市场监督管理局"), "审查");
    let auditor = service.token("auditor", None, "审计");
    let today = bureau_day(0);
    let rongque = |code: &str| {
        open(
            &service,
            &issuer,
            FOOD,
            json!({
                "data": data_for(FOOD, code),
                "missing_materials": ["从业人员健康证明"],
                "commitment": commitment(),
            }),
        )
    };
    let list =
        |token: &str, listing: Value| service.post_json("/api/v1/blacklist", Some(token), &listing);

    let reason = "提供虚假材料骗取许可（行政处罚决定书 新市监罚〔2026〕8号）";
    let entry = body(
        list(
            &admin,
            json!({
                "credit_code": EXAMPLE_CODE,
                "name": "新乡市华辰食品贸易有限公司",
                "reason": reason,
                "listed_from": day_text(today),
            }),
        ),
        201,
    );
    let entry_id = entry["id"].as_str().unwrap().to_string();
    assert_eq!(entry["listed_from"], day_text(today).as_str());
    assert!(entry["removed_by"].is_null());

    let refused = expect_error(rongque(EXAMPLE_CODE), 409, "request.applicant_barred");
    assert!(
        refused["message"].as_str().unwrap().contains(reason),
        "{refused}"
    );
    let ordinary = opened(&service, &issuer, FOOD, json!({}));
    assert_eq!(ordinary["credit_code"], EXAMPLE_CODE);
    let shown = applicant(&service, &issuer, EXAMPLE_CODE);
    assert_eq!(shown["barred"], true, "{shown}");
    assert!(
        shown["reasons"][0].as_str().unwrap().contains(reason),
        "{shown}"
    );

    // Listed from a future day, or only until yesterday: not barred today.
    let (future, expired) = (OTHER_CODES[1], OTHER_CODES[2]);
    body(
        list(
            &admin,
            json!({
                "credit_code": future,
                "name": "新乡市未来食品有限公司",
                "reason": "严重失信",
                "listed_from": day_text(today + Duration::days(10)),
            }),
        ),
        201,
    );
    body(
        list(
            &admin,
            json!({
                "credit_code": expired,
                "name": "新乡市往昔食品有限公司",
                "reason": "严重失信",
                "listed_from": day_text(today - Duration::days(30)),
                "listed_until": day_text(today - Duration::days(1)),
            }),
        ),
        201,
    );
    for code in [future, expired] {
        assert_eq!(
            applicant(&service, &issuer, code)["barred"],
            false,
            "{code}"
        );
        body(rongque(code), 201);
    }

    // Listed after a 容缺 request was opened: its seal is refused as well.
    let pending = body(rongque(OTHER_CODES[3]), 201);
    body(
        list(
            &admin,
            json!({
                "credit_code": OTHER_CODES[3],
                "name": "新乡市后列食品有限公司",
                "reason": "严重失信",
            }),
        ),
        201,
    );
    expect_error(
        service.post_json(
            &format!("/api/v1/requests/{}/seal", pending["id"].as_str().unwrap()),
            Some(&issuer),
            &json!({}),
        ),
        409,
        "request.applicant_barred",
    );

    // Removal lifts the bar; the entry stays, with who removed it and why.
    body(
        service.post_json(
            &format!("/api/v1/blacklist/{entry_id}/remove"),
            Some(&admin),
            &json!({ "reason": "信用修复完成" }),
        ),
        200,
    );
    let kept = body(
        service.get(
            &format!("/api/v1/blacklist?credit_code={EXAMPLE_CODE}"),
            Some(&auditor),
        ),
        200,
    );
    let entries = kept["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{kept}");
    assert_eq!(entries[0]["id"], entry_id.as_str());
    assert!(
        entries[0]["removed_by"]
            .as_str()
            .unwrap()
            .contains(token_id(&admin)),
        "{kept}"
    );
    assert_eq!(entries[0]["removal_reason"], "信用修复完成");
    assert_eq!(entries[0]["reason"], reason);
    assert_eq!(applicant(&service, &issuer, EXAMPLE_CODE)["barred"], false);
    body(rongque(EXAMPLE_CODE), 201);
    expect_error(
        service.post_json(
            &format!("/api/v1/blacklist/{entry_id}/remove"),
            Some(&admin),
            &json!({ "reason": "再次" }),
        ),
        409,
        "conflict",
    );
    assert_eq!(
        audited(&service, &auditor, "blacklist.added", EXAMPLE_CODE),
        1
    );
    assert_eq!(
        audited(&service, &auditor, "blacklist.removed", &entry_id),
        1
    );

    // Only admins keep the list; a malformed credit code is named.
    let listing = json!({
        "credit_code": OTHER_CODES[4],
        "name": "某公司",
        "reason": "严重失信",
    });
    for token in [&issuer, &reviewer, &auditor] {
        expect_error(list(token, listing.clone()), 403, "auth.forbidden");
    }
    for bad in [
        "9141070MA47U3K26U",
        "91410700ma47u3k26u",
        "91410700MA47U3K26I",
    ] {
        let mut listing = listing.clone();
        listing["credit_code"] = json!(bad);
        let error = expect_error(list(&admin, listing), 422, "blacklist.invalid");
        assert!(
            error["message"].as_str().unwrap().contains("credit_code"),
            "{bad}: {error}"
        );
    }
    assert_eq!(
        applicant(&service, &issuer, OTHER_CODES[4])["barred"],
        false,
        "refused listings leave no trace"
    );
}

/// Nearest-rank percentile, as the report documents it.
fn percentile(values: &[i64], p: usize) -> i64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// One row of a report section by key.
fn row<'a>(report: &'a Value, section: &str, key: &str) -> &'a Value {
    report[section]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no {section} row {key}: {report}"))
}

/// `(requests, issued, rejected, open, overdue, commitments_missed, sign_offs)` of a row.
fn counts(row: &Value) -> [u64; 7] {
    [
        "requests",
        "issued",
        "rejected",
        "open",
        "overdue",
        "commitments_missed",
        "sign_offs",
    ]
    .map(|name| {
        row[name]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: {row}"))
    })
}

/// The CSV parsed by Python's csv module.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut python = Command::new("python3")
        .args([
            "-c",
            "import csv, io, json, sys\n\
             rows = csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding='utf-8', newline=''))\n\
             print(json.dumps(list(rows)))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    python
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = python.wait_with_output().unwrap();
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The efficiency report counts exactly the mix driven here, in JSON and CSV alike.
fn efficiency_report(database: Database) {
    let mut service = start(database);
    service.install_template(FOOD, "市场监督管理局");
    service.install_template(PERMIT, "自然资源和规划局");
    let admin = service.token("admin", None, "办公室");
    let auditor = service.token("auditor", None, "审计");
    let issuer = service.token("issuer", None, "窗口 1");
    let housing = service.token("reviewer", Some("住房和城乡建设局"), "住建 审查");
    let department = service.token("department", Some("市场监督管理局"), "科室");

    // Permits: one issued on time, one rejected, one left to go overdue.
    let issued_serial = service.issue_example_via_request(&issuer, PERMIT);
    let issued_id = certificate(&service, &admin, &issued_serial)["request"]
        .as_str()
        .unwrap()
        .to_string();
    let rejected_id = opened(&service, &issuer, PERMIT, json!({}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let decided = body(
        service.post_json(
            &format!("/api/v1/requests/{rejected_id}/sign-off"),
            Some(&housing),
            &json!({ "decision": "reject", "comment": "设计方案不符合控制性详细规划" }),
        ),
        200,
    );
    assert_eq!(decided["request"]["status"], "rejected");
    let overdue_id = opened(&service, &issuer, PERMIT, json!({}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Food: one issued under 容缺 whose commitment will be missed.
    let rongque = opened(
        &service,
        &issuer,
        FOOD,
        json!({ "missing_materials": ["从业人员健康证明"], "commitment": commitment() }),
    );
    let rongque_serial = seal(&service, &issuer, rongque["id"].as_str().unwrap());

    restart_days_ahead(&mut service, 40);
    wait_until("the sweep finds the missed commitment", || {
        audited(&service, &auditor, "commitment.missed", &rongque_serial) == 1
    });
    // Opened at the shifted clock: open, not overdue.
    opened(&service, &issuer, FOOD, json!({}));

    let (from, until) = (day_text(bureau_day(0)), day_text(bureau_day(40)));
    let query = format!("/api/v1/reports/efficiency?from={from}&until={until}");
    let report = body(service.get(&query, Some(&admin)), 200);
    assert_eq!(report["from"], from.as_str());
    assert_eq!(report["until"], until.as_str());
    //                                     requests issued rejected open overdue missed sign_offs
    assert_eq!(
        counts(row(&report, "templates", PERMIT)),
        [3, 1, 1, 1, 1, 0, 0]
    );
    assert_eq!(
        counts(row(&report, "templates", FOOD)),
        [2, 1, 0, 1, 0, 1, 0]
    );
    assert_eq!(
        counts(row(&report, "departments", "自然资源和规划局")),
        [3, 1, 1, 1, 1, 0, 0]
    );
    assert_eq!(
        counts(row(&report, "departments", "住房和城乡建设局")),
        [3, 1, 1, 1, 1, 0, 2]
    );
    assert_eq!(
        counts(row(&report, "departments", "市场监督管理局")),
        [2, 1, 0, 1, 0, 1, 0]
    );
    assert_eq!(report["templates"].as_array().unwrap().len(), 2);
    assert_eq!(report["departments"].as_array().unwrap().len(), 3);
    let housing_row = row(&report, "departments", "住房和城乡建设局");
    assert_eq!(housing_row["sign_offs_rejected"], 1);
    assert_eq!(
        row(&report, "templates", PERMIT)["title"],
        "建设工程规划许可证"
    );

    // Processing times are those of the closed requests, nearest rank.
    let took = |id: &str| {
        let shown = view(&service, &admin, id);
        unix_ms(shown["closed_at"].as_str().unwrap())
            - unix_ms(shown["opened_at"].as_str().unwrap())
    };
    let permits = [took(&issued_id), took(&rejected_id)];
    let permit_row = row(&report, "templates", PERMIT);
    assert_eq!(permit_row["median_processing_ms"], percentile(&permits, 50));
    assert_eq!(permit_row["p90_processing_ms"], percentile(&permits, 90));
    let food_took = took(rongque["id"].as_str().unwrap());
    let food_row = row(&report, "templates", FOOD);
    assert_eq!(food_row["median_processing_ms"], food_took);
    assert_eq!(food_row["p90_processing_ms"], food_took);
    assert!(housing_row["median_sign_off_ms"].is_i64(), "{housing_row}");
    assert!(row(&report, "departments", "自然资源和规划局")["median_sign_off_ms"].is_null());

    // Only the last day: the one open food request, and no closed request to time.
    let last_day = body(
        service.get(
            &format!("/api/v1/reports/efficiency?from={until}&until={until}"),
            Some(&auditor),
        ),
        200,
    );
    assert_eq!(
        last_day["templates"].as_array().unwrap().len(),
        1,
        "{last_day}"
    );
    let only = row(&last_day, "templates", FOOD);
    assert_eq!(counts(only), [1, 0, 0, 1, 0, 0, 0]);
    assert!(only["median_processing_ms"].is_null() && only["p90_processing_ms"].is_null());
    let market = row(&last_day, "departments", "市场监督管理局");
    assert_eq!(counts(market), [1, 0, 0, 1, 0, 0, 0]);
    assert!(market["median_processing_ms"].is_null() && market["p90_processing_ms"].is_null());
    assert_eq!(
        last_day["departments"].as_array().unwrap().len(),
        1,
        "{last_day}"
    );

    // The CSV holds the same numbers, after a header row.
    let csv = service.get(&format!("{query}&format=csv"), Some(&admin));
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let rows = parse_csv(&csv.text().unwrap());
    let header = &rows[0];
    assert_eq!(&header[..4], ["scope", "key", "title", "requests"]);
    assert_eq!(rows.len(), 1 + 3 + 2, "{rows:?}");
    for cells in &rows[1..] {
        let section = match cells[0].as_str() {
            "department" => "departments",
            "template" => "templates",
            other => panic!("scope {other}"),
        };
        let json_row = row(&report, section, &cells[1]);
        for (name, cell) in header.iter().zip(cells) {
            let expected = match &json_row[name] {
                Value::Null => String::new(),
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            assert_eq!(cell, &expected, "{name} of {}", cells[1]);
        }
    }

    // A backwards range is named; only admins and auditors read the report.
    let error = expect_error(
        service.get(
            &format!("/api/v1/reports/efficiency?from={until}&until={from}"),
            Some(&admin),
        ),
        422,
        "report.invalid_range",
    );
    assert!(
        error["message"].as_str().unwrap().contains("from"),
        "{error}"
    );
    for token in [&department, &housing, &issuer] {
        expect_error(service.get(&query, Some(token)), 403, "auth.forbidden");
    }
    let overdue = view(&service, &admin, &overdue_id);
    assert_eq!(
        (overdue["status"].as_str(), overdue["overdue"].as_bool()),
        (Some("review"), Some(true))
    );
}
