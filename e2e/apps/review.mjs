// The MCP Apps review form in a real browser: a minimal host page (host.html + host.js, the host side
// of the bridge from @modelcontextprotocol/ext-apps, bundled here by esbuild) renders the ui://
// resource of create_refund in a sandboxed iframe of headless Chromium (playwright-core), and
// forwards the view's tools/call to the real binary over stdio (@modelcontextprotocol/sdk's Node
// client, declaring the Apps extension). Checks: the tools name their form, the resource reads
// as text/html;profile=mcp-app, the first call moves nothing, the person's click makes the refund
// exactly once, and a second submit of the same form is refused with nothing more moved; the
// credits and renewal forms, each clicked once, make their move.
// Usage: node apps/review.mjs <binary>   (from e2e/; screenshots in e2e/artifacts/apps-review-*.png)
import { join } from "node:path";
import { artifacts, checks, demoClient, hostPage, MIME } from "./harness.mjs";

const { check, done } = checks("apps review");
const { client, connect, close } = demoClient("review.mjs");
const PAYMENT = "txn_D7E8F9G0";

let browser;
const submitted = [];

async function refundCount() {
  const listed = await client.callTool({ name: "list_transactions", arguments: { limit: 100 } });
  return (listed.structuredContent?.transactions ?? []).filter((t) => t.type === "refund").length;
}

try {
  await connect();
  const { tools } = await client.listTools();
  const uriOf = (name) => tools.find((t) => t.name === name)?._meta?.ui?.resourceUri;
  check("create_refund names its review form", uriOf("create_refund") === "ui://solvapay/review/refund", uriOf("create_refund"));
  check("grant_credits names its review form", uriOf("grant_credits") === "ui://solvapay/review/credits", uriOf("grant_credits"));
  check("cancel_renewal names its review form", uriOf("cancel_renewal") === "ui://solvapay/review/renewal", uriOf("cancel_renewal"));
  check("a read tool names none", uriOf("list_transactions") === undefined);
  const { resources } = await client.listResources();
  const listed = resources.find((r) => r.uri === "ui://solvapay/review/refund");
  check("resources/list has the refund form as an App", listed?.mimeType === MIME, listed);
  const read = await client.readResource({ uri: "ui://solvapay/review/refund" });
  const content = read.contents?.[0];
  check("resources/read answers the HTML as an App", content?.mimeType === MIME && content?.text?.startsWith("<!doctype html>"), content?.mimeType);
  check("the form asks for no network (empty CSP)", JSON.stringify(content?._meta?.ui?.csp) === "{}", content?._meta);

  const input = { sourceTransactionRef: PAYMENT, amount: 1000 };
  const first = await client.callTool({ name: "create_refund", arguments: input });
  check("the first call is a result, not an error", first.isError !== true, first.content?.[0]?.text);
  check("it is awaiting review", first.structuredContent?.status === "awaiting_review", first.structuredContent);
  check("its token is in _meta, not in the text", typeof first._meta?.["solvapay/reviewToken"] === "string"
    && !JSON.stringify(first.content).includes(first._meta?.["solvapay/reviewToken"] ?? "-"));
  check("nothing was refunded by the review", (await refundCount()) === 0);

  const opened = await hostPage(client, submitted);
  browser = opened.browser;
  const { page, errors: consoleErrors } = opened;

  const mount = () => page.evaluate((v) => window.mountView(v), { html: content.text, toolInput: input, toolResult: first });
  const index = await mount();
  const view = page.frameLocator("iframe").nth(index);
  const button = view.getByRole("button", { name: "Refund" });
  await button.waitFor();
  const shown = (await view.locator("body").textContent())?.replace(/\s+/g, " ") ?? "";
  check("the form shows the payment", shown.includes(`${PAYMENT} ($49.00)`), shown);
  check("the form shows the customer", shown.includes("Jane Smith"), shown);
  check("the form shows the amount", shown.includes("Refund now$10.00"), shown);
  check("the form shows what remains", shown.includes("Refundable after$39.00"), shown);
  await page.screenshot({ path: join(artifacts, "apps-review-refund.png"), fullPage: true });
  check("nothing was submitted before the click", submitted.length === 0, submitted);

  await button.click();
  await view.locator("#status.done").waitFor();
  const done = (await view.locator("#status").textContent()) ?? "";
  check("the click made the refund", /refund of \$10\.00/i.test(done), done);
  check("the button is off after the submit", await button.isDisabled().catch(() => false) || (await view.getByRole("button", { name: "Done" }).isDisabled()));
  check("the submit reached the tool once, with the token", submitted.length === 1
    && submitted[0]._meta?.["solvapay/reviewToken"] === first._meta["solvapay/reviewToken"], submitted.length);
  check("exactly one refund was made", (await refundCount()) === 1);
  await page.screenshot({ path: join(artifacts, "apps-review-refund-done.png"), fullPage: true });

  // The same form shown again (the host re-renders the conversation), clicked again: refused.
  const again = page.frameLocator("iframe").nth(await mount());
  await again.getByRole("button", { name: "Refund" }).click();
  await again.locator("#status.error").waitFor();
  const refused = (await again.locator("#status").textContent()) ?? "";
  check("a second submit is refused", /already submitted/.test(refused), refused);
  check("it reached the tool, which refused it", submitted.length === 2, submitted.length);
  check("still exactly one refund", (await refundCount()) === 1);
  await page.screenshot({ path: join(artifacts, "apps-review-refund-again.png"), fullPage: true });

  // The other two forms, each clicked once: the move is made, and only then.
  const structured = async (name, args) => (await client.callTool({ name, arguments: args })).structuredContent ?? {};
  const jane = "cus_A1B2C3D4";
  const before = (await structured("get_customer_balance", { customerRef: jane })).credits;
  const others = [
    { tool: "grant_credits", shot: "credits", button: "Grant credits", input: { customerRef: jane, credits: 2500, reason: "Goodwill" },
      moved: async () => (await structured("get_customer_balance", { customerRef: jane })).credits === before + 2500 },
    { tool: "cancel_renewal", shot: "renewal", button: "Cancel renewal", input: { purchaseRef: "pur_T3U4V5W6" },
      moved: async () => typeof (await structured("get_purchase", { purchaseRef: "pur_T3U4V5W6" })).cancelledAt === "string" },
  ];
  for (const other of others) {
    const form = await client.readResource({ uri: uriOf(other.tool) });
    const result = await client.callTool({ name: other.tool, arguments: other.input });
    check(`${other.tool}: the first call moves nothing`, result.isError !== true && !(await other.moved()), result.content?.[0]?.text);
    await page.evaluate(() => document.getElementById("views").replaceChildren());
    const frame = page.frameLocator("iframe").nth(
      await page.evaluate((v) => window.mountView(v), { html: form.contents[0].text, toolInput: other.input, toolResult: result }),
    );
    const submit = frame.getByRole("button", { name: other.button, exact: true });
    await page.screenshot({ path: join(artifacts, `apps-review-${other.shot}.png`), fullPage: true });
    const calls = submitted.length;
    await submit.click();
    await frame.locator("#status.done").waitFor();
    check(`${other.tool}: the click made the move, once`, submitted.length === calls + 1 && (await other.moved()));
  }
  check("no script error on the page", consoleErrors.length === 0, consoleErrors);
} catch (e) {
  check("the scenario ran", false, String(e?.stack ?? e).split("\n").slice(0, 3).join(" | "));
} finally {
  await browser?.close().catch(() => {});
  await close();
}
done();
