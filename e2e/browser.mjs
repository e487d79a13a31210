// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) on a sandbox page.
// Usage: node browser.mjs checkout|portal|return <url> <artifact-prefix> [return-url]
// checkout: screenshot, click Pay, expect "Payment successful", screenshot; prints the purchase ref.
// portal:   screenshot, click "Cancel renewal", expect "Renewal cancelled", screenshot.
// return:   screenshot, click Pay, expect to land on <return-url> (another origin: the page's
//           Content-Security-Policy form-action must allow the redirect), screenshot.
// Prints one JSON line on stdout; exit 0 on success, 1 on failure.
import { launch } from "./chromium.mjs";

const [mode, url, prefix, returnUrl] = process.argv.slice(2);
if (!["checkout", "portal", "return"].includes(mode) || !url || !prefix || (mode === "return") !== Boolean(returnUrl)) {
  console.error("usage: node browser.mjs checkout|portal|return <url> <artifact-prefix> [return-url]");
  process.exit(2);
}

const browser = await launch({ width: 900, height: 700 });

const out = { mode, ok: false };
try {
  const page = await browser.page();
  page.setDefaultTimeout(15_000);
  const response = await page.goto(url, { waitUntil: "load" });
  out.status = response?.status();
  out.title = await page.title();
  await page.screenshot({ path: `${prefix}.png`, fullPage: true });
  if (mode === "checkout") {
    const pay = page.locator("form[action='/customer/checkout'] button[type=submit]");
    if ((await pay.count()) === 0) {
      out.completed = /already been completed/.test((await page.textContent("body")) ?? "");
      throw new Error("no Pay button on the page");
    }
    out.button = (await pay.textContent())?.trim();
    await Promise.all([page.waitForURL(/\/customer\/checkout/, { waitUntil: "load" }), pay.click()]);
    await page.getByText("Payment successful").first().waitFor();
    out.purchaseRef = (await page.locator("code").first().textContent())?.trim();
    out.after = (await page.textContent("body"))?.replace(/\s+/g, " ").trim();
    out.ok = out.status === 200 && /^pur_/.test(out.purchaseRef ?? "");
  } else if (mode === "return") {
    const pay = page.locator("form[action='/customer/checkout'] button[type=submit]");
    out.button = (await pay.textContent())?.trim();
    await Promise.all([page.waitForURL(returnUrl, { waitUntil: "load" }), pay.click()]);
    out.landed = page.url();
    out.after = (await page.textContent("body"))?.replace(/\s+/g, " ").trim();
    out.ok = out.status === 200 && out.landed === returnUrl;
  } else {
    const cancel = page.getByRole("button", { name: "Cancel renewal" });
    out.buttons = await cancel.count();
    await Promise.all([page.waitForURL(/\/customer\/manage/, { waitUntil: "load" }), cancel.first().click()]);
    await page.getByText("Renewal cancelled").first().waitFor();
    out.after = (await page.textContent("body"))?.replace(/\s+/g, " ").trim();
    out.ok = out.status === 200 && out.buttons === 1;
  }
  await page.screenshot({ path: `${prefix}-done.png`, fullPage: true });
} catch (e) {
  out.error = String(e?.message ?? e).split("\n")[0];
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);
