//! The revenue chart: per calendar month (UTC) of the [`MONTHS`] months ending with the clock's,
//! the payments received (gross), the completed refunds, and the net (gross − refunds), one SVG
//! per currency. Drawn here as text, in integer coordinates from exact minor units (no floats),
//! with a `<title>`, a `<desc>` giving the totals, axis labels, and every figure written under its
//! month, so it reads without colour and without script.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use time::{Date, Month as CalendarMonth, OffsetDateTime};

use super::ledger::{Totals, received, refunded};
use crate::sandbox::model::Txn;
use crate::sandbox::pages::money;
use crate::sandbox::util::{fmt_ts, html_escape as esc};

/// How many months the chart covers, the clock's own last.
pub(crate) const MONTHS: usize = 6;

/// One calendar month: `[from, to)` as stored timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Month {
    pub(crate) first: Date,
    pub(crate) from: String,
    pub(crate) to: String,
}

impl Month {
    fn starting(first: Date) -> Self {
        let next = next_month(first);
        Self {
            first,
            from: fmt_ts(first.midnight().assume_utc()),
            to: fmt_ts(next.midnight().assume_utc()),
        }
    }

    /// `2026-02`.
    pub(crate) fn key(&self) -> String {
        format!("{}-{:02}", self.first.year(), u8::from(self.first.month()))
    }

    /// `Feb 2026`.
    pub(crate) fn label(&self) -> String {
        let name = format!("{}", self.first.month());
        format!("{} {}", name.get(..3).unwrap_or(&name), self.first.year())
    }
}

fn next_month(first: Date) -> Date {
    let (year, month) = match first.month() {
        CalendarMonth::December => (first.year() + 1, CalendarMonth::January),
        m => (first.year(), m.next()),
    };
    Date::from_calendar_date(year, month, 1).unwrap_or(first)
}

fn previous_month(first: Date) -> Date {
    let (year, month) = match first.month() {
        CalendarMonth::January => (first.year() - 1, CalendarMonth::December),
        m => (first.year(), m.previous()),
    };
    Date::from_calendar_date(year, month, 1).unwrap_or(first)
}

/// The months of the chart and each currency's sums in them.
pub(crate) struct Revenue {
    /// Oldest first; the last is the clock's month.
    pub(crate) months: Vec<Month>,
    /// Per currency (upper case), one [`Totals`] per month of `months`.
    pub(crate) by_currency: BTreeMap<String, Vec<Totals>>,
}

impl Revenue {
    pub(crate) fn of(txns: &[Txn], now: OffsetDateTime) -> Self {
        let now = now.to_offset(time::UtcOffset::UTC);
        let mut first = now.date().replace_day(1).unwrap_or(now.date());
        let mut months = Vec::with_capacity(MONTHS);
        for _ in 0..MONTHS {
            months.push(Month::starting(first));
            first = previous_month(first);
        }
        months.reverse();
        let mut by_currency = BTreeMap::<String, Vec<Totals>>::new();
        for t in txns.iter().filter(|t| received(t) || refunded(t)) {
            let Some(i) = months
                .iter()
                .position(|m| m.from <= t.created_at && t.created_at < m.to)
            else {
                continue;
            };
            let sums = by_currency
                .entry(t.currency.to_uppercase())
                .or_insert_with(|| vec![Totals::default(); months.len()]);
            if let Some(sum) = sums.get_mut(i) {
                if received(t) {
                    sum.payments += 1;
                    sum.gross += t.amount;
                } else {
                    sum.refunds += 1;
                    sum.refunded += t.amount;
                }
            }
        }
        Self {
            months,
            by_currency,
        }
    }

    /// The first day of the first month and the last month's label: `Sep 2025 – Feb 2026`.
    pub(crate) fn span(&self) -> String {
        match (self.months.first(), self.months.last()) {
            (Some(a), Some(b)) => format!("{} – {}", a.label(), b.label()),
            _ => String::new(),
        }
    }
}

const WIDTH: i64 = 660;
const HEIGHT: i64 = 330;
const LEFT: i64 = 96;
const RIGHT: i64 = 16;
const TOP: i64 = 44;
const BOTTOM: i64 = 220;

/// The smallest 1, 2 or 5 × 10ⁿ at or above `max` (at least 100 minor units).
fn nice_ceiling(max: i64) -> i64 {
    let mut step = 100_i64;
    loop {
        for m in [1, 2, 5] {
            let v = step.saturating_mul(m);
            if v >= max || v == i64::MAX {
                return v;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// The height in pixels of `v` on a scale whose top is `top` (integer arithmetic, rounded down).
fn scaled(v: i64, top: i64) -> i64 {
    let plot = i128::from(BOTTOM - TOP);
    i64::try_from(i128::from(v.max(0)) * plot / i128::from(top.max(1))).unwrap_or(BOTTOM - TOP)
}

/// The SVG of `currency`'s sums (one per month of `rev.months`).
pub(crate) fn svg(rev: &Revenue, currency: &str, sums: &[Totals]) -> String {
    let id: String = currency
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    let total = sums.iter().fold(Totals::default(), |a, s| Totals {
        payments: a.payments + s.payments,
        gross: a.gross + s.gross,
        refunds: a.refunds + s.refunds,
        refunded: a.refunded + s.refunded,
    });
    let m = |v: i64| esc(&money(v, currency));
    let title = format!("Revenue per month, {currency}, {}", rev.span());
    let desc = format!(
        "Payments received (gross), completed refunds and net revenue (gross minus refunds) per \
         calendar month (UTC) in {currency}, {}. Totals: gross {}, refunds {}, net {}.",
        rev.span(),
        money(total.gross, currency),
        money(total.refunded, currency),
        money(total.net(), currency)
    );
    let top = nice_ceiling(
        sums.iter()
            .map(|s| s.gross.max(s.refunded))
            .max()
            .unwrap_or(0),
    );
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"revenue\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" aria-labelledby=\"rev-{id}-title rev-{id}-desc\" \
         data-currency=\"{c}\" data-gross=\"{g}\" data-refunds=\"{r}\" data-net=\"{n}\">\
         <title id=\"rev-{id}-title\">{t}</title><desc id=\"rev-{id}-desc\">{d}</desc>\
         <defs><pattern id=\"hatch-{id}\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" class=\"refund-bg\"/>\
         <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" class=\"refund-line\"/></pattern></defs>\
         <text x=\"{LEFT}\" y=\"18\" class=\"chart-title\">{t}</text>",
        c = esc(currency),
        g = total.gross,
        r = total.refunded,
        n = total.net(),
        t = esc(&title),
        d = esc(&desc),
    );
    // Legend.
    let lx = WIDTH - RIGHT - 190;
    let _ = write!(
        out,
        "<g class=\"legend\"><rect x=\"{lx}\" y=\"26\" width=\"12\" height=\"12\" class=\"gross\"/>\
         <text x=\"{}\" y=\"36\">gross (payments)</text>\
         <rect x=\"{}\" y=\"26\" width=\"12\" height=\"12\" fill=\"url(#hatch-{id})\" class=\"refund\"/>\
         <text x=\"{}\" y=\"36\">refunds</text></g>",
        lx + 16,
        lx + 126,
        lx + 142
    );
    // Y axis: 0, half, top, with grid lines.
    for v in [0, top / 2, top] {
        let y = BOTTOM - scaled(v, top);
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" class=\"grid\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"tick\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6,
            y + 4,
            m(v)
        );
    }
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{BOTTOM}\" class=\"axis\"/>\
         <line x1=\"{LEFT}\" y1=\"{BOTTOM}\" x2=\"{}\" y2=\"{BOTTOM}\" class=\"axis\"/>\
         <text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\" class=\"axis-label\">Amount ({})</text>",
        WIDTH - RIGHT,
        (TOP + BOTTOM) / 2,
        (TOP + BOTTOM) / 2,
        esc(currency)
    );
    // The rows of figures under the axis, named in the left margin.
    let rows = [("gross", 254), ("refunds", 270), ("net", 286)];
    for (name, y) in rows {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{y}\" text-anchor=\"end\" class=\"row-label\">{name}</text>",
            LEFT - 6
        );
    }
    let n = i64::try_from(rev.months.len().max(1)).unwrap_or(1);
    let slot = (WIDTH - LEFT - RIGHT) / n;
    for (i, (month, s)) in rev.months.iter().zip(sums).enumerate() {
        let x = LEFT + slot * i64::try_from(i).unwrap_or(0);
        let mid = x + slot / 2;
        let gh = scaled(s.gross, top);
        let rh = scaled(s.refunded, top);
        let _ = write!(
            out,
            "<g class=\"month\" data-month=\"{key}\" data-gross=\"{g}\" data-refunds=\"{r}\" data-net=\"{net}\">\
             <rect x=\"{gx}\" y=\"{gy}\" width=\"26\" height=\"{gh}\" class=\"gross\"><title>{label}: gross {gm}</title></rect>\
             <rect x=\"{rx}\" y=\"{ry}\" width=\"26\" height=\"{rh}\" fill=\"url(#hatch-{id})\" class=\"refund\"><title>{label}: refunds {rm}</title></rect>\
             <text x=\"{mid}\" y=\"236\" text-anchor=\"middle\" class=\"month-label\">{label}</text>\
             <text x=\"{mid}\" y=\"254\" text-anchor=\"middle\" class=\"v-gross\">{gm}</text>\
             <text x=\"{mid}\" y=\"270\" text-anchor=\"middle\" class=\"v-refunds\">{rm}</text>\
             <text x=\"{mid}\" y=\"286\" text-anchor=\"middle\" class=\"v-net\">{nm}</text></g>",
            key = month.key(),
            g = s.gross,
            r = s.refunded,
            net = s.net(),
            gx = mid - 28,
            gy = BOTTOM - gh,
            rx = mid + 2,
            ry = BOTTOM - rh,
            label = esc(&month.label()),
            gm = m(s.gross),
            rm = m(s.refunded),
            nm = m(s.net()),
        );
    }
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"312\" text-anchor=\"middle\" class=\"axis-label\">Month (UTC), by the sandbox clock</text></svg>",
        LEFT + (WIDTH - LEFT - RIGHT) / 2
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_scale_tops_at_a_round_figure_at_or_above_the_largest_bar() {
        assert_eq!(nice_ceiling(0), 100);
        assert_eq!(nice_ceiling(100), 100);
        assert_eq!(nice_ceiling(101), 200);
        assert_eq!(nice_ceiling(4900), 5000);
        assert_eq!(nice_ceiling(5001), 10_000);
        assert_eq!(nice_ceiling(i64::MAX), i64::MAX);
        assert_eq!(scaled(5000, 10_000), (BOTTOM - TOP) / 2);
        assert_eq!(scaled(-5, 100), 0);
    }

    #[test]
    fn the_months_end_with_the_clocks_and_cross_the_year() {
        let rev = Revenue::of(&[], datetime!(2026-02-11 12:00 UTC));
        let keys: Vec<String> = rev.months.iter().map(Month::key).collect();
        assert_eq!(
            keys,
            [
                "2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02"
            ]
        );
        assert_eq!(rev.months[5].from, "2026-02-01T00:00:00.000Z");
        assert_eq!(rev.months[5].to, "2026-03-01T00:00:00.000Z");
        assert_eq!(rev.span(), "Sep 2025 – Feb 2026");
    }
}
