// The sandbox dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core).
// Usage: node dashboard.mjs <dashboard-url> <artifact-dir> <advance-by>
// Opens the dashboard, screenshots each panel (<artifact-dir>/dashboard-<panel>.png) and reads each
// panel's figures from the page's data-* attributes; then types <advance-by> (e.g. 20d) into the
// clock form's "Advance by", clicks Advance, and reads the page it lands on again
// (dashboard-after-<panel>.png).
// Prints one JSON line on stdout: {ok, before: figures, after: figures, ...}; exit 0 on success.
import { launch } from "./chromium.mjs";
import { join } from "node:path";

const [url, dir, by] = process.argv.slice(2);
if (!url || !dir || !by) {
  console.error("usage: node dashboard.mjs <dashboard-url> <artifact-dir> <advance-by>");
  process.exit(2);
}

// Everything the panels say, read from the DOM and the chart's SVG (runs in the page).
function figures() {
  const num = (v) => (v === null || v === undefined || v === "" ? null : Number(v));
  const money = (el) => (el ? { minor: num(el.dataset.minor), currency: el.dataset.currency } : null);
  const panel = (id) => document.querySelector(`section[data-panel="${id}"]`);
  const rows = (id, sel = "tbody tr[data-ref]") => [...(panel(id)?.querySelectorAll(sel) ?? [])];
  const total = (id) => num(panel(id)?.dataset.total);
  const now = document.getElementById("clock-now");
  return {
    scripts: document.querySelectorAll("script").length,
    panels: [...document.querySelectorAll("section[data-panel]")].map((s) => s.dataset.panel),
    clock: { now: now?.getAttribute("datetime"), mode: now?.dataset.mode, text: now?.textContent },
    customers: {
      total: total("customers"),
      rows: rows("customers").map((r) => ({
        ref: r.dataset.ref,
        email: r.querySelector("[data-field=email]")?.textContent,
        credits: num(r.querySelector("[data-field=credits]")?.dataset.units),
      })),
    },
    products: {
      total: total("products"),
      rows: [...(panel("products")?.querySelectorAll("article.product[data-ref]") ?? [])].map((a) => ({
        ref: a.dataset.ref,
        plans: [...a.querySelectorAll("tbody tr[data-ref]")].map((r) => ({
          ref: r.dataset.ref,
          kind: r.dataset.kind,
          status: r.dataset.status,
          price: money(r.querySelector("td[data-minor]")),
          limit: num(r.querySelector("[data-field=limit]")?.dataset.units),
        })),
      })),
    },
    purchases: {
      total: total("purchases"),
      rows: rows("purchases").map((r) => ({
        ref: r.dataset.ref,
        status: r.dataset.status,
        state: r.dataset.state,
        autoRenew: r.dataset.autoRenew === "true",
        amount: money(r.querySelector("td[data-minor]")),
        stateText: r.querySelector("[data-field=state]")?.textContent,
      })),
    },
    usage: {
      total: total("usage"),
      rows: rows("usage").map((r) => ({
        ref: r.dataset.ref,
        used: num(r.dataset.used),
        limit: num(r.dataset.limit),
        periodStart: r.dataset.periodStart,
        periodEnd: r.dataset.periodEnd,
      })),
    },
    transactions: {
      total: total("transactions"),
      rows: rows("transactions").map((r) => {
        const cells = r.querySelectorAll("td[data-minor]");
        return {
          ref: r.dataset.ref,
          type: r.dataset.type,
          status: r.dataset.status,
          amount: money(cells[0]),
          refunded: money(cells[1]),
        };
      }),
      totals: rows("transactions", "tr[data-currency][data-payments]").map((r) => {
        const cells = r.querySelectorAll("td[data-minor]");
        return {
          currency: r.dataset.currency,
          payments: num(r.dataset.payments),
          refunds: num(r.dataset.refunds),
          gross: num(cells[0]?.dataset.minor),
          refunded: num(cells[1]?.dataset.minor),
          net: num(cells[2]?.dataset.minor),
        };
      }),
    },
    revenue: {
      charts: [...(panel("revenue")?.querySelectorAll("figure.chart svg[data-currency]") ?? [])].map((s) => ({
        currency: s.dataset.currency,
        gross: num(s.dataset.gross),
        refunds: num(s.dataset.refunds),
        net: num(s.dataset.net),
        months: [...s.querySelectorAll("g.month[data-month]")].map((g) => ({
          month: g.dataset.month,
          gross: num(g.dataset.gross),
          refunds: num(g.dataset.refunds),
          net: num(g.dataset.net),
          label: g.querySelector(".month-label")?.textContent,
          netText: g.querySelector(".v-net")?.textContent,
        })),
      })),
    },
  };
}

async function shoot(page, prefix) {
  await page.screenshot({ path: join(dir, `${prefix}.png`), fullPage: true });
  for (const id of await page.$$eval("section[data-panel]", (s) => s.map((e) => e.dataset.panel))) {
    await page.locator(`section[data-panel="${id}"]`).screenshot({ path: join(dir, `${prefix}-${id}.png`) });
  }
}

const browser = await launch({ width: 1200, height: 900 });

const out = { ok: false };
try {
  const page = await browser.page();
  page.setDefaultTimeout(15_000);
  const response = await page.goto(url, { waitUntil: "load" });
  out.status = response?.status();
  out.csp = response?.headers()["content-security-policy"] ?? null;
  out.title = await page.title();
  out.before = await page.evaluate(figures);
  await shoot(page, "dashboard");

  const form = page.locator("form#clock-advance");
  await form.locator("input[name=by]").fill(by);
  const [landed] = await Promise.all([
    page.waitForResponse((r) => r.url() === url && r.request().method() === "GET"),
    form.getByRole("button", { name: "Advance" }).click(),
  ]);
  await page.waitForLoadState("load");
  out.afterStatus = landed.status();
  out.afterUrl = page.url();
  out.after = await page.evaluate(figures);
  await shoot(page, "dashboard-after");
  out.ok = out.status === 200 && out.afterStatus === 200 && out.afterUrl === url;
} catch (e) {
  out.error = String(e?.message ?? e).split("\n")[0];
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);
