// The MCP Apps chart of get_revenue_metrics in a real browser: the minimal host page (host.html +
// host.js, ext-apps's AppBridge bundled by esbuild) renders ui://solvapay/metrics/revenue in a
// sandboxed iframe of headless Chromium with a real get_revenue_metrics result of the --demo data
// (the binary over stdio, @modelcontextprotocol/sdk's Node client declaring the Apps extension).
// Checks: the tool names the chart, the resource reads as text/html;profile=mcp-app with an empty
// CSP, the figures the view shows are the result's own formatted strings, the SVG has one group of
// three bars per currency, the "incomplete" banner shows only for an incomplete result, and the
// view calls no tool.
// Usage: node apps/metrics.mjs <binary>   (from e2e/; screenshot e2e/artifacts/apps-metrics.png)
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { launch } from "../chromium.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, "..", "artifacts");
const bin = process.argv[2];
if (!bin) {
  console.error("usage: node apps/metrics.mjs <binary>");
  process.exit(2);
}
const MIME = "text/html;profile=mcp-app";
const CHART = "ui://solvapay/metrics/revenue";

let failures = 0;
function check(name, cond, detail = "") {
  console.log(cond ? `  ok   ${name}` : `  FAIL ${name}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  if (!cond) failures += 1;
  return cond;
}

const bundle = await build({
  entryPoints: [join(here, "host.js")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  write: false,
  logLevel: "error",
});
const hostJs = bundle.outputFiles[0].text;
const hostHtml = readFileSync(join(here, "host.html"), "utf8");

const dataDir = mkdtempSync(join(tmpdir(), "solvapay-e2e-chart-"));
const transport = new StdioClientTransport({
  command: bin,
  args: ["--demo"],
  env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", SOLVAPAY_DATA_DIR: dataDir, RUST_LOG: "warn" },
  stderr: "inherit",
});
const client = new Client(
  { name: "solvapay-e2e-apps-host", version: "1.0.0" },
  { capabilities: { extensions: { "io.modelcontextprotocol/ui": { mimeTypes: [MIME] } } } },
);
let browser;
const called = [];

try {
  await client.connect(transport);
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

  browser = await launch({ width: 640, height: 820 });
  const { context } = browser;
  const page = await browser.page();
  page.setDefaultTimeout(15_000);
  // The host page is served by the test itself: nothing leaves the machine.
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== "http://host.test") return route.abort();
    if (url.pathname === "/") return route.fulfill({ status: 200, contentType: "text/html", body: hostHtml });
    if (url.pathname === "/host.js") return route.fulfill({ status: 200, contentType: "text/javascript", body: hostJs });
    return route.fulfill({ status: 404, body: "" });
  });
  await page.exposeFunction("hostCallTool", async (params) => {
    called.push(params);
    return await client.callTool(params);
  });
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto("http://host.test/", { waitUntil: "load" });
  await page.waitForFunction(() => window.hostReady === true);

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
  await client.close().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(failures ? `apps metrics: ${failures} check(s) failed` : "apps metrics: all checks passed");
process.exit(failures ? 1 : 0);
