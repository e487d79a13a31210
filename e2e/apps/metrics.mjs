// The MCP Apps chart of get_revenue_metrics in a real browser: the minimal host page (host.html +
// host.js, ext-apps's AppBridge bundled by esbuild) renders ui://solvapay/metrics/revenue in a
// sandboxed iframe of headless Chromium with a real get_revenue_metrics result of the --demo data
// (the binary over stdio, @modelcontextprotocol/sdk's Node client declaring the Apps extension).
// Checks: the tool names the chart, the resource reads as text/html;profile=mcp-app with an empty
// CSP, the figures the view shows are the result's own formatted strings, the SVG has one group of
// three bars per currency, the "incomplete" banner shows only for an incomplete result, and the
// view calls no tool.
// Usage: node apps/metrics.mjs <binary>   (from e2e/; screenshot e2e/artifacts/apps-metrics.png)
import { join } from "node:path";
import { artifacts, checks, demoClient, hostPage, MIME } from "./harness.mjs";

const { check, done } = checks("apps metrics");
const { client, connect, close } = demoClient("metrics.mjs");
const CHART = "ui://solvapay/metrics/revenue";

let browser;
const called = [];

try {
  await connect();
  const { tools } = await client.listTools();
  const uri = tools.find((t) => t.name === "get_revenue_metrics")?._meta?.ui?.resourceUri;
  check("get_revenue_metrics names its chart", uri === CHART, uri);
  const { resources } = await client.listResources();
  const listed = resources.find((r) => r.uri === CHART);
  check("resources/list has the chart as an App", listed?.mimeType === MIME, listed);
  const read = await client.readResource({ uri: CHART });
  const content = read.contents?.[0];
  check("resources/read answers the HTML as an App", content?.mimeType === MIME && content?.text?.startsWith("<!doctype html>"), content?.mimeType);
  check("the chart asks for no network (empty CSP)", JSON.stringify(content?._meta?.ui?.csp) === "{}", content?._meta);

  // January of the demo: Jane's $49.00 payment, one active subscription.
  const input = { period: "2026-01" };
  const result = await client.callTool({ name: "get_revenue_metrics", arguments: input });
  const metrics = result.structuredContent ?? {};
  const totals = metrics.totals ?? [];
  check("the call answers metrics", result.isError !== true && totals.length > 0, result.content?.[0]?.text);

  const opened = await hostPage(client, called);
  browser = opened.browser;
  const { page, errors: pageErrors } = opened;

  const mount = async (toolResult) => {
    await page.evaluate(() => document.getElementById("views").replaceChildren());
    const index = await page.evaluate((v) => window.mountView(v), { html: content.text, toolInput: input, toolResult });
    const view = page.frameLocator("iframe").nth(index);
    await view.locator("section.currency").first().waitFor();
    return view;
  };

  const view = await mount(result);
  await page.screenshot({ path: join(artifacts, "apps-metrics.png"), fullPage: true });
  for (const t of totals) {
    const section = view.locator(`section.currency[data-currency="${t.currency}"]`);
    const figure = async (key) => ((await section.locator(`dd[data-figure="${key}"]`).textContent()) ?? "").trim();
    const shown = {
      mrr: await figure("mrr"), arr: await figure("arr"), net: await figure("net"),
      new: await figure("new"), churned: await figure("churned"), active: await figure("active"),
      reactivated: await figure("reactivated"),
    };
    const expected = {
      mrr: t.mrr.formatted, arr: t.arr.formatted, net: t.netRevenue.formatted,
      new: String(t.newSubscriptions), churned: String(t.churnedSubscriptions), active: String(t.activeSubscriptions),
      reactivated: t.reactivatedSubscriptions === undefined ? "not reported" : String(t.reactivatedSubscriptions),
    };
    check(`${t.currency}: the figures shown are the result's`, JSON.stringify(shown) === JSON.stringify(expected), { shown, expected });
    const group = view.locator(`svg#chart g.bars[data-currency="${t.currency}"]`);
    const labels = await group.locator("text[data-value]").allTextContents();
    const wanted = [t.grossRevenue.formatted, t.refunds.formatted, t.netRevenue.formatted];
    check(`${t.currency}: the bars are labelled with gross, refunds, net as formatted`, JSON.stringify(labels) === JSON.stringify(wanted), { labels, wanted });
    check(`${t.currency}: three bars`, (await group.locator("rect[data-bar]").count()) === 3);
    const height = async (bar) => Number(await group.locator(`rect[data-bar="${bar}"]`).getAttribute("height"));
    if (t.grossRevenue.amount > 0 && t.refunds.amount === 0) {
      check(`${t.currency}: with no refunds the net bar is as tall as gross`, (await height("net")) === (await height("gross")) && (await height("gross")) > 1);
    }
  }
  check("the SVG has one group of bars per currency", (await view.locator("svg#chart g.bars").count()) === totals.length);
  check("a complete result shows no incomplete banner", metrics.complete === true && (await view.locator("#incomplete").isHidden()));

  // The same result marked incomplete (as a capped read answers it): the banner says so.
  const truncated = "read the 1000 most recent transactions of 1500 of the period (at most 10 pages of 100); gross, refunds, net and usage miss the older ones: ask for a shorter period";
  const cut = { ...result, structuredContent: { ...metrics, complete: false, truncated } };
  const incomplete = await mount(cut);
  const banner = incomplete.locator("#incomplete");
  check("an incomplete result shows the banner", (await banner.isVisible()) && ((await banner.textContent()) ?? "").includes(`Incomplete: ${truncated}`));
  await page.screenshot({ path: join(artifacts, "apps-metrics-incomplete.png"), fullPage: true });

  // Two currencies, the second with refunds over gross (a negative net): a group each, the
  // negative bar below the axis.
  const usd = totals[0];
  const eur = {
    ...usd, currency: "EUR",
    mrr: { amount: 0, currency: "EUR", formatted: "€0.00" },
    arr: { amount: 0, currency: "EUR", formatted: "€0.00" },
    grossRevenue: { amount: 1000, currency: "EUR", formatted: "€10.00" },
    refunds: { amount: 2500, currency: "EUR", formatted: "€25.00" },
    netRevenue: { amount: -1500, currency: "EUR", formatted: "-€15.00" },
  };
  const two = await mount({ ...result, structuredContent: { ...metrics, totals: [usd, eur] } });
  check("two currencies: two groups of bars", (await two.locator("svg#chart g.bars").count()) === 2);
  const eurBars = two.locator('svg#chart g.bars[data-currency="EUR"]');
  const y = async (bar) => Number(await eurBars.locator(`rect[data-bar="${bar}"]`).getAttribute("y"));
  const axisY = Number(await eurBars.locator("line.axis").getAttribute("y1"));
  check("a negative net is drawn below the axis", (await y("net")) === axisY && (await y("gross")) < axisY, { net: await y("net"), axisY });
  check("EUR: the net shown is the result's", ((await two.locator('section[data-currency="EUR"] dd[data-figure="net"]').textContent()) ?? "") === "-€15.00");
  await page.screenshot({ path: join(artifacts, "apps-metrics-two-currencies.png"), fullPage: true });

  check("the chart called no tool (read-only)", called.length === 0, called);
  check("no script error on the page", pageErrors.length === 0, pageErrors);
} catch (e) {
  check("the scenario ran", false, String(e?.stack ?? e).split("\n").slice(0, 3).join(" | "));
} finally {
  await browser?.close().catch(() => {});
  await close();
}
done();
