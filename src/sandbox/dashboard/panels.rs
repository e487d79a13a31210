//! The dashboard's panels as HTML, from a [`Ledger`]: customers, products and plans, purchases
//! with their state, usage against limits, transactions and refunds, and the revenue chart. Every
//! value from the ledger goes through [`user`] (escaped, bidi-isolated, invisible characters
//! shown) or [`esc`]; every figure carries its exact value in a `data-` attribute beside the text
//! (`data-minor` + `data-currency` for money), and a cut list says how many rows it left out.

use std::fmt::Write as _;

use super::chart;
use super::ledger::{Capped, Ledger, PurchaseRow, TxnRow};
use crate::sandbox::billing;
use crate::sandbox::model::Plan;
use crate::sandbox::pages::money;
use crate::sandbox::util::html_escape as esc;

/// Attacker-controlled text (names, emails, descriptions): HTML-escaped, in a `<bdi>` so a
/// right-to-left override cannot reorder the cells around it, with every invisible or
/// direction-changing character (zero-width spaces and joiners, bidi controls, soft hyphen, BOM,
/// other control characters) shown as its code point.
pub(crate) fn user(s: &str) -> String {
    let mut out = String::from("<bdi>");
    for c in s.chars() {
        if hidden(c) {
            let _ = write!(out, "<span class=\"cc\">U+{:04X}</span>", u32::from(c));
        } else {
            out.push_str(&esc(c.encode_utf8(&mut [0; 4])));
        }
    }
    out.push_str("</bdi>");
    out
}

fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// `2026-02-11T12:00:00.000Z` → `2026-02-11`.
fn day(ts: &str) -> &str {
    ts.get(..10).unwrap_or(ts)
}

/// A money cell: the formatted amount, with its minor units and currency as data.
fn money_cell(amount: i64, currency: &str) -> String {
    format!(
        "<td class=\"num\" data-minor=\"{amount}\" data-currency=\"{}\">{}</td>",
        esc(&currency.to_uppercase()),
        esc(&money(amount, currency))
    )
}

/// The panel frame: a section with its heading, its count, and the line saying how many rows a
/// cut list left out.
fn panel(id: &str, title: &str, count: &str, total: usize, body: &str, left_out: usize) -> String {
    let more = if left_out > 0 {
        format!(
            "<p class=\"more\" data-more=\"{left_out}\">… and {left_out} more not shown (the newest {} are listed).</p>",
            super::ledger::LIST_CAP
        )
    } else {
        String::new()
    };
    format!(
        "<section class=\"panel\" id=\"{id}\" data-panel=\"{id}\" data-total=\"{total}\" aria-labelledby=\"{id}-h\">\
         <h2 id=\"{id}-h\">{title}</h2><p class=\"count\">{count}</p>{body}{more}</section>"
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn table(head: &[&str], rows: &str) -> String {
    let mut out = String::from("<table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th scope=\"col\">{h}</th>");
    }
    let _ = write!(out, "</tr></thead><tbody>{rows}</tbody></table>");
    out
}

pub(crate) fn customers(l: &Ledger) -> String {
    let c = &l.customers;
    let mut rows = String::new();
    for cu in &c.rows {
        let _ = write!(
            rows,
            "<tr data-ref=\"{r}\"><td><code>{r}</code></td><td data-field=\"name\">{}</td><td data-field=\"email\">{}</td>\
             <td data-field=\"externalRef\">{}</td><td class=\"num\" data-field=\"credits\" data-units=\"{cr}\">{cr}</td><td>{}</td></tr>",
            user(&cu.name),
            user(&cu.email),
            user(cu.external_ref.as_deref().unwrap_or("")),
            esc(day(&cu.created_at)),
            r = esc(&cu.reference),
            cr = cu.credit_balance,
        );
    }
    let mut count = plural(c.total, "customer", "customers");
    if l.deleted_customers > 0 {
        let _ = write!(count, " ({} deleted, not listed)", l.deleted_customers);
    }
    let body = if c.total == 0 {
        "<p>No customers yet.</p>".to_owned()
    } else {
        table(
            &[
                "Reference",
                "Name",
                "Email",
                "External ref",
                "Credits",
                "Created",
            ],
            &rows,
        )
    };
    panel(
        "customers",
        "Customers",
        &count,
        c.total,
        &body,
        c.left_out(),
    )
}

fn plan_row(p: &Plan) -> String {
    let amount = billing::charge_amount(p);
    let limit = if p.limit_units > 0 {
        p.limit_units.to_string()
    } else {
        "—".to_owned()
    };
    let mut flags = Vec::new();
    if p.is_default {
        flags.push("default");
    }
    if p.hidden {
        flags.push("hidden");
    }
    format!(
        "<tr data-ref=\"{r}\" data-kind=\"{k}\" data-status=\"{st}\"><td><code>{r}</code></td><td>{}</td><td>{k}</td>{}\
         <td>{}</td><td class=\"num\" data-field=\"limit\" data-units=\"{}\">{limit}</td><td class=\"num\">{}</td><td>{st}</td><td>{}</td></tr>",
        user(&p.name),
        money_cell(amount, &p.currency),
        esc(p.billing_cycle.as_deref().unwrap_or("—")),
        p.limit_units,
        p.free_units,
        flags.join(", "),
        r = esc(&p.reference),
        k = esc(&p.kind),
        st = esc(&p.status),
    )
}

pub(crate) fn products(l: &Ledger) -> String {
    let c = &l.products;
    let mut body = String::new();
    let mut plans = 0;
    for row in &c.rows {
        let p = &row.product;
        plans += row.plans.len();
        let _ = write!(
            body,
            "<article class=\"product\" data-ref=\"{r}\" data-plans=\"{n}\"><h3>{} <code>{r}</code> <span class=\"status\">{}</span></h3>",
            user(&p.name),
            esc(&p.status),
            r = esc(&p.reference),
            n = row.plans.len(),
        );
        if let Some(d) = p.description.as_deref().filter(|d| !d.is_empty()) {
            let _ = write!(body, "<p>{}</p>", user(d));
        }
        if row.plans.is_empty() {
            body.push_str("<p>No plans.</p>");
        } else {
            let rows: String = row.plans.iter().map(plan_row).collect();
            body.push_str(&table(
                &[
                    "Plan", "Name", "Type", "Price", "Cycle", "Limit", "Free", "Status", "",
                ],
                &rows,
            ));
        }
        body.push_str("</article>");
    }
    if c.total == 0 {
        body.push_str("<p>No products yet.</p>");
    }
    let count = format!(
        "{}; {} on the products shown",
        plural(c.total, "product", "products"),
        plural(plans, "plan", "plans")
    );
    panel(
        "products",
        "Products and plans",
        &count,
        c.total,
        &body,
        c.left_out(),
    )
}

/// The state of a purchase as a person reads it: its status and what its renewal does.
fn state(r: &PurchaseRow) -> (String, String) {
    let p = &r.purchase;
    let end = p.end_date.as_deref().map(day).unwrap_or("");
    match p.status.as_str() {
        "active" | "trialing" if p.cancelled_at.is_some() => (
            "renewal-cancelled".into(),
            format!("{}, renewal cancelled: ends {end}", p.status),
        ),
        "active" | "trialing" if p.is_recurring && p.auto_renew => {
            let next = p.next_billing_date.as_deref().map(day).unwrap_or("");
            let again = p
                .reactivated_at
                .as_deref()
                .map(|d| format!(" (reactivated {})", day(d)))
                .unwrap_or_default();
            (
                "renewing".into(),
                format!("{}, renews {next}{again}", p.status),
            )
        }
        "active" | "trialing" => (p.status.clone(), p.status.clone()),
        "expired" => ("expired".into(), format!("expired {end}")),
        "cancelled" => (
            "cancelled".into(),
            format!(
                "cancelled {}",
                p.cancelled_at.as_deref().map(day).unwrap_or("")
            ),
        ),
        other => (other.to_owned(), other.to_owned()),
    }
}

pub(crate) fn purchases(l: &Ledger) -> String {
    let c = &l.purchases;
    let mut rows = String::new();
    for r in &c.rows {
        let p = &r.purchase;
        let (key, text) = state(r);
        let _ = write!(
            rows,
            "<tr data-ref=\"{pr}\" data-status=\"{s}\" data-state=\"{key}\" data-auto-renew=\"{ar}\">\
             <td><code>{pr}</code></td><td>{} <code>{}</code></td><td>{} / {}</td>{}<td data-field=\"state\">{}</td><td>{}</td></tr>",
            user(&r.names.customer),
            esc(&r.names.customer_ref),
            user(&r.names.product),
            user(p.snap_str("name")),
            money_cell(p.amount, &p.currency),
            esc(&text),
            esc(day(&p.start_date)),
            pr = esc(&p.reference),
            s = esc(&p.status),
            key = esc(&key),
            ar = p.auto_renew,
        );
    }
    let active = c
        .rows
        .iter()
        .filter(|r| billing::grants_access(&r.purchase.status))
        .count();
    let mut count = plural(c.total, "purchase", "purchases");
    if c.left_out() == 0 {
        let _ = write!(count, " ({active} granting access)");
    }
    let body = if c.total == 0 {
        "<p>No purchases yet.</p>".to_owned()
    } else {
        table(
            &[
                "Purchase",
                "Customer",
                "Product / plan",
                "Amount",
                "State",
                "Started",
            ],
            &rows,
        )
    };
    panel(
        "purchases",
        "Purchases",
        &count,
        c.total,
        &body,
        c.left_out(),
    )
}

pub(crate) fn usage(l: &Ledger) -> String {
    let c = &l.usage;
    let mut rows = String::new();
    for r in &c.rows {
        let Some(u) = &r.usage else { continue };
        let p = &r.purchase;
        let limit = p.snap_i64("limit");
        let (limit_text, against) = if limit > 0 {
            let against = if u.used > limit {
                format!("<strong class=\"over\">over by {}</strong>", u.used - limit)
            } else {
                format!("{} left", limit - u.used)
            };
            (limit.to_string(), against)
        } else {
            ("unlimited".to_owned(), String::new())
        };
        let overage = if u.overage_units > 0 {
            format!(
                "{} units, {}",
                u.overage_units,
                esc(&money(u.overage_cost, &p.currency))
            )
        } else {
            "—".to_owned()
        };
        let _ = write!(
            rows,
            "<tr data-ref=\"{pr}\" data-used=\"{used}\" data-limit=\"{limit}\" data-period-start=\"{ps}\" data-period-end=\"{pe}\">\
             <td><code>{pr}</code></td><td>{} <code>{}</code></td><td>{} / {}</td><td>{} – {}</td>\
             <td class=\"num\" data-field=\"used\">{used}</td><td class=\"num\" data-field=\"limit\">{limit_text}</td><td>{against}</td><td>{overage}</td><td>{}</td></tr>",
            user(&r.names.customer),
            esc(&r.names.customer_ref),
            user(&r.names.product),
            user(p.snap_str("name")),
            esc(day(&u.period_start)),
            esc(day(&u.period_end)),
            esc(&p.status),
            pr = esc(&p.reference),
            used = u.used,
            ps = esc(&u.period_start),
            pe = esc(&u.period_end),
        );
    }
    let count = format!(
        "{} with a usage window (this period, by the sandbox clock)",
        plural(c.total, "purchase", "purchases")
    );
    let body = if c.total == 0 {
        "<p>No metered purchases.</p>".to_owned()
    } else {
        table(
            &[
                "Purchase",
                "Customer",
                "Product / plan",
                "Period",
                "Used",
                "Limit",
                "",
                "Overage",
                "Status",
            ],
            &rows,
        )
    };
    panel(
        "usage",
        "Usage this period",
        &count,
        c.total,
        &body,
        c.left_out(),
    )
}

fn txn_row(r: &TxnRow) -> String {
    let t = &r.txn;
    let refunded = if t.kind == "payment" {
        money_cell(t.refunded_amount, &t.currency)
    } else {
        "<td></td>".to_owned()
    };
    format!(
        "<tr data-ref=\"{tr}\" data-type=\"{k}\" data-status=\"{s}\"><td><code>{tr}</code></td><td>{}</td><td>{k}</td><td>{s}</td>{}{refunded}\
         <td>{} <code>{}</code></td><td>{}</td><td>{}</td></tr>",
        esc(day(&t.created_at)),
        money_cell(t.amount, &t.currency),
        user(&r.names.customer),
        esc(&r.names.customer_ref),
        user(&r.names.product),
        user(t.description.as_deref().unwrap_or("")),
        tr = esc(&t.reference),
        k = esc(&t.kind),
        s = esc(&t.status),
    )
}

fn totals_table(l: &Ledger) -> String {
    let mut rows = String::new();
    for (cur, t) in &l.totals {
        let _ = write!(
            rows,
            "<tr data-currency=\"{c}\" data-payments=\"{}\" data-refunds=\"{}\"><th scope=\"row\">{c}</th>\
             <td class=\"num\">{}</td>{}<td class=\"num\">{}</td>{}{}</tr>",
            t.payments,
            t.refunds,
            t.payments,
            money_cell(t.gross, cur),
            t.refunds,
            money_cell(t.refunded, cur),
            money_cell(t.net(), cur),
            c = esc(cur),
        );
    }
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "<h3>All time, per currency</h3>{}",
        table(
            &[
                "Currency",
                "Payments",
                "Gross received",
                "Refunds",
                "Refunded",
                "Net",
            ],
            &rows
        )
    )
}

pub(crate) fn transactions(l: &Ledger) -> String {
    let c: &Capped<TxnRow> = &l.transactions;
    let rows: String = c.rows.iter().map(txn_row).collect();
    let refunds = c.rows.iter().filter(|r| r.txn.kind == "refund").count();
    let mut count = plural(c.total, "transaction", "transactions");
    if c.left_out() == 0 {
        let _ = write!(count, " ({})", plural(refunds, "refund", "refunds"));
    }
    let mut body = totals_table(l);
    if c.total == 0 {
        body.push_str("<p>No transactions yet.</p>");
    } else {
        body.push_str(&table(
            &[
                "Transaction",
                "Date",
                "Type",
                "Status",
                "Amount",
                "Refunded",
                "Customer",
                "Product",
                "Description",
            ],
            &rows,
        ));
    }
    panel(
        "transactions",
        "Transactions and refunds",
        &count,
        c.total,
        &body,
        c.left_out(),
    )
}

pub(crate) fn revenue(l: &Ledger) -> String {
    let rev = &l.revenue;
    let mut body = String::new();
    for (cur, sums) in &rev.by_currency {
        let _ = write!(
            body,
            "<figure class=\"chart\" data-currency=\"{}\">{}</figure>",
            esc(cur),
            chart::svg(rev, cur, sums)
        );
    }
    if body.is_empty() {
        body.push_str("<p>No payments or refunds in these months.</p>");
    }
    let count = format!(
        "Gross (payments received), refunds (completed) and net per month, {}; {}.",
        esc(&rev.span()),
        plural(rev.by_currency.len(), "currency", "currencies")
    );
    panel(
        "revenue",
        "Revenue",
        &count,
        rev.by_currency.len(),
        &body,
        0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped_isolated_and_its_invisible_characters_shown() {
        assert_eq!(
            user("<script>\"x\"&'</script>"),
            "<bdi>&lt;script&gt;&quot;x&quot;&amp;&#39;&lt;/script&gt;</bdi>"
        );
        assert_eq!(
            user("a\u{202E}b\u{200B}c\n"),
            "<bdi>a<span class=\"cc\">U+202E</span>b<span class=\"cc\">U+200B</span>c<span class=\"cc\">U+000A</span></bdi>"
        );
        assert_eq!(user("Jané 日本"), "<bdi>Jané 日本</bdi>");
    }
}
