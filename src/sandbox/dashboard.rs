//! The sandbox dashboard, `GET /dashboard`: one server-rendered page showing the ledger
//! (customers, products and plans, purchases, usage, transactions and refunds, a revenue chart in
//! SVG) at the sandbox clock's instant, and a form that moves that clock (`POST /dashboard/clock`).
//! Key-free like the hosted pages, so it answers only to this machine: a loopback peer, under the
//! sandbox's own `Host` (`guard::require_host`), with the pages' headers and policy (no script);
//! the clock form passes `guard::check_form_post` and moves the clock by the rule of
//! `solvapay-mcp sandbox clock` (`AppState::change_clock`), stored in the database.

mod chart;
mod ledger;
mod panels;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use time::{Duration, OffsetDateTime};

use super::admin::{self, ClockChange};
use super::clock::ClockSetting;
use super::guard::{self, DASHBOARD_SESSION, PageForm};
use super::util::{fmt_ts, html_escape as esc, parse_date_bound};
use super::{AppState, St};
use ledger::Ledger;

/// Where the dashboard is served.
pub(crate) const PATH: &str = "/dashboard";
const CLOCK_FORM: &str = "/dashboard/clock";
const STYLESHEET: &str = "/dashboard/dashboard.css";

pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(PATH, get(show))
        .route(CLOCK_FORM, post(move_clock))
        .route(STYLESHEET, get(stylesheet))
        .route_layer(middleware::from_fn(this_machine_only))
}

/// The dashboard shows the whole ledger without a key: a peer on another machine (a sandbox bound
/// to `0.0.0.0`) is refused, whatever `Host` it names.
async fn this_machine_only(req: Request, next: Next) -> Response {
    let local = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().is_loopback());
    if local {
        return next.run(req).await;
    }
    frame(
        StatusCode::FORBIDDEN,
        "Dashboard refused",
        "<p>The sandbox dashboard answers only on the machine the sandbox runs on (a loopback address).</p>",
    )
}

async fn show(State(st): St) -> Response {
    render(&st, StatusCode::OK, None).await
}

/// What the clock form asked, or why it cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum BadClock {
    #[error("Write a duration such as 30d, 12h, 1h30m, 2w or -1d (got {0:?}).")]
    Duration(String),
    #[error(
        "Write a date (2026-03-01, midnight UTC) or an RFC 3339 date-time such as 2026-03-01T09:30:00Z (got {0:?})."
    )]
    Date(String),
    #[error("Move the clock by at most 10 years at a time.")]
    TooFar,
    #[error("The sandbox clock must stay between the years 1970 and 2999.")]
    OutOfRange,
    #[error("Choose advance, set, freeze or resume.")]
    Action,
}

const MAX_STEP: Duration = Duration::days(10 * 366);

fn clock_change(form: &std::collections::HashMap<String, String>) -> Result<ClockChange, BadClock> {
    let field = |name: &str| form.get(name).map(|v| v.trim()).unwrap_or("");
    match field("action") {
        "advance" => {
            let by = field("by");
            let d = admin::parse_duration(by).ok_or_else(|| BadClock::Duration(by.to_owned()))?;
            if d.abs() > MAX_STEP {
                return Err(BadClock::TooFar);
            }
            Ok(ClockChange::Advance(d))
        }
        "set" => {
            let at = field("at");
            parse_date_bound(at)
                .map(ClockChange::Set)
                .ok_or_else(|| BadClock::Date(at.to_owned()))
        }
        "freeze" => Ok(ClockChange::Freeze),
        "resume" => Ok(ClockChange::Resume),
        _ => Err(BadClock::Action),
    }
}

/// The sandbox time `setting` gives at `wall`, when it stays within years 1970–2999.
fn within_range(setting: ClockSetting, wall: OffsetDateTime) -> bool {
    let t = match setting {
        ClockSetting::Flowing { offset } => wall.checked_add(offset),
        ClockSetting::Frozen { at } => Some(at),
    };
    t.is_some_and(|t| (1970..=2999).contains(&t.year()))
}

/// The clock form: checked as a page's form post, then the change, stored; back to the page (303).
/// A bad value shows the page again with the reason, and changes nothing.
async fn move_clock(State(st): St, headers: HeaderMap, body: Bytes) -> Response {
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&body).into_owned().collect();
    let token = form.get("csrf").map(String::as_str);
    if let Err(r) = guard::check_form_post(
        &headers,
        &st.csrf,
        PageForm::DashboardClock,
        DASHBOARD_SESSION,
        token,
    ) {
        return frame(
            r.status(),
            "Request refused",
            &format!(
                "<p>{}</p><p>Nothing was changed.</p><p><a href=\"{PATH}\">Back to the dashboard</a></p>",
                esc(&r.to_string())
            ),
        );
    }
    let change = match clock_change(&form) {
        Ok(c) => c,
        Err(e) => return render(&st, StatusCode::BAD_REQUEST, Some(e)).await,
    };
    let state = Arc::clone(&st);
    let moved = st
        .db
        .tx(st.clock.now(), move |tx, _| {
            state.adopt_stored_clock(tx)?;
            let wall = OffsetDateTime::now_utc();
            match change.applied_to(state.clock.setting(), wall) {
                Some(next) if !within_range(next, wall) => Ok(Err(BadClock::OutOfRange)),
                _ => Ok(Ok(state.change_clock(tx, change)?)),
            }
        })
        .await;
    match moved {
        Ok(Ok(_)) => (StatusCode::SEE_OTHER, [(header::LOCATION, PATH)]).into_response(),
        Ok(Err(bad)) => render(&st, StatusCode::BAD_REQUEST, Some(bad)).await,
        Err(e) => frame(
            e.status,
            "Something went wrong",
            &format!("<p>{}</p>", esc(&e.message)),
        ),
    }
}

async fn render(st: &Arc<AppState>, status: StatusCode, problem: Option<BadClock>) -> Response {
    let setting = st.clock.setting();
    let token = st.csrf.token(PageForm::DashboardClock, DASHBOARD_SESSION);
    let loaded = st.swept_tx(st.clock.now(), Ledger::load).await;
    match loaded {
        Ok(l) => {
            let mut body = clock_panel(&l, setting, &token, problem.as_ref());
            body.push_str(&panels::revenue(&l));
            body.push_str(&panels::customers(&l));
            body.push_str(&panels::products(&l));
            body.push_str(&panels::purchases(&l));
            body.push_str(&panels::usage(&l));
            body.push_str(&panels::transactions(&l));
            frame(status, "Sandbox dashboard", &body)
        }
        Err(e) => frame(
            e.status,
            "Something went wrong",
            &format!("<p>{}</p>", esc(&e.message)),
        ),
    }
}

fn clock_panel(
    l: &Ledger,
    setting: ClockSetting,
    token: &str,
    problem: Option<&BadClock>,
) -> String {
    let now = fmt_ts(l.now);
    let mode = match setting {
        ClockSetting::Frozen { .. } => "frozen",
        ClockSetting::Flowing { .. } => "flowing",
    };
    let mut out = format!(
        "<section class=\"panel\" id=\"clock\" data-panel=\"clock\" aria-labelledby=\"clock-h\"><h2 id=\"clock-h\">Clock</h2>\
         <p>Sandbox time: <time id=\"clock-now\" datetime=\"{now}\" data-mode=\"{mode}\">{now}</time> ({mode}). \
         Every API answer, renewal and usage window follows it; <code>solvapay-mcp sandbox clock</code> moves the same clock.</p>"
    );
    if let Some(p) = problem {
        let _ = write!(
            out,
            "<p class=\"error\" role=\"alert\" id=\"clock-error\">{} The clock was not moved.</p>",
            esc(&p.to_string())
        );
    }
    let csrf = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\" />",
        esc(token)
    );
    let _ = write!(
        out,
        "<form method=\"post\" action=\"{CLOCK_FORM}\" class=\"clock-form\" id=\"clock-advance\">{csrf}\
         <label>Advance by <input name=\"by\" size=\"10\" placeholder=\"30d, 12h, 1h30m, -1d\" /></label> \
         <button type=\"submit\" name=\"action\" value=\"advance\">Advance</button></form>\
         <form method=\"post\" action=\"{CLOCK_FORM}\" class=\"clock-form\" id=\"clock-set\">{csrf}\
         <label>Set to <input name=\"at\" size=\"24\" placeholder=\"2026-03-01 or 2026-03-01T09:30:00Z\" /></label> \
         <button type=\"submit\" name=\"action\" value=\"set\">Set (and freeze)</button></form>\
         <form method=\"post\" action=\"{CLOCK_FORM}\" class=\"clock-form\" id=\"clock-run\">{csrf}\
         <button type=\"submit\" name=\"action\" value=\"{what}\">{label}</button></form></section>",
        what = if mode == "frozen" { "resume" } else { "freeze" },
        label = if mode == "frozen" {
            "Resume (let time flow)"
        } else {
            "Freeze"
        },
    );
    out
}

/// The page around `body`. The body is well-formed XML (void elements closed, only the five
/// XML entities), so a test can read it as such.
fn frame(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\" /><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\
         <link rel=\"stylesheet\" href=\"{STYLESHEET}\" /></head>\
         <body><header><p><strong>SolvaPay sandbox</strong> (no real payments) · \
         <a href=\"{PATH}\">reload</a></p><h1>{t}</h1></header><main>{body}</main></body></html>",
        t = esc(title)
    );
    (status, Html(html)).into_response()
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        "body{font-family:sans-serif;max-width:76rem;margin:1.5rem auto;padding:0 1rem;color:#222}\n\
         .panel{border:1px solid #ccc;border-radius:8px;padding:.5rem 1rem 1rem;margin:1rem 0}\n\
         table{border-collapse:collapse;width:100%;font-size:.9rem}\n\
         th,td{border-bottom:1px solid #eee;padding:.25rem .5rem;text-align:left;vertical-align:top}\n\
         td.num{text-align:right;font-variant-numeric:tabular-nums}\n\
         .count{color:#555;margin:.25rem 0 .5rem}\n\
         .more{font-style:italic}\n\
         .error{border:2px solid #b00020;background:#fdecee;padding:.5rem}\n\
         .over{color:#b00020}\n\
         .cc{font-family:monospace;font-size:.8em;border:1px dotted #a60;background:#fff6d5;padding:0 .15em}\n\
         .clock-form{display:inline-block;margin:.25rem 1.5rem .25rem 0}\n\
         article.product{margin:.5rem 0 1rem}\n\
         figure.chart{margin:.5rem 0}\n\
         svg.revenue text{font-size:11px;fill:#222}\n\
         svg.revenue .chart-title{font-size:13px;font-weight:bold}\n\
         svg.revenue .gross{fill:#2a62c9}\n\
         svg.revenue .refund{stroke:#8a4b00}\n\
         svg.revenue .refund-bg{fill:#f3c98b}\n\
         svg.revenue .refund-line{stroke:#8a4b00;stroke-width:2}\n\
         svg.revenue .axis{stroke:#222}\n\
         svg.revenue .grid{stroke:#ddd}\n\
         svg.revenue .row-label{font-weight:bold}\n",
    )
        .into_response()
}
