// MCP Inspector CLI (v2.12.0) against the real binary in local-sandbox mode.
// Usage: node inspector.mjs <path-to-solvapay-mcp>
// Each Inspector run spawns a fresh server; all of them share one data dir, so what one run
// creates the next one reads back (the sandbox database is a file there).
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const inspector = join(here, "node_modules", ".bin", "mcp-inspector");
const bin = process.argv[2];
if (!bin) {
  console.error("usage: node inspector.mjs <solvapay-mcp binary>");
  process.exit(2);
}
const dataDir = mkdtempSync(join(tmpdir(), "solvapay-e2e-inspector-"));

let failures = 0;
function check(name, cond, detail = "") {
  if (cond) console.log(`  ok   ${name}`);
  else {
    failures++;
    console.log(`  FAIL ${name}${detail ? `: ${detail}` : ""}`);
  }
}

/** Runs the Inspector CLI once; returns { code, json, stderr }. */
function inspect(args, serverArgs = []) {
  const r = spawnSync(
    inspector,
    ["--cli", "-e", `SOLVAPAY_DATA_DIR=${dataDir}`, "-e", "RUST_LOG=warn", ...args, "--", bin, ...serverArgs],
    { encoding: "utf8", timeout: 60_000, maxBuffer: 64 << 20 },
  );
  let json = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    /* not JSON */
  }
  return { code: r.status, json, stdout: r.stdout, stderr: r.stderr };
}

function call(tool, args) {
  return inspect(["--method", "tools/call", "--tool-name", tool, "--tool-args-json", JSON.stringify(args), "--format", "json"]);
}

const short = (r) => `exit ${r.code}; stdout ${r.stdout.slice(0, 300)}; stderr ${r.stderr.slice(-400)}`;

// 1. tools/list
const list = inspect(["--method", "tools/list", "--format", "json"], ["--demo"]);
const tools = list.json?.result?.tools ?? [];
check("tools/list exits 0", list.code === 0, short(list));
// SolvaPay's 32 hosted tools and the 4 of the credits toolset.
check("tools/list returns 37 tools", tools.length === 37, `got ${tools.length}`);
check("tool names are unique", new Set(tools.map((t) => t.name)).size === tools.length);
for (const name of ["create_customer", "get_customer", "list_customers", "create_checkout_session", "record_bulk_usage", "get_purchases_by_customer"]) {
  check(`tools/list has ${name}`, tools.some((t) => t.name === name));
}
check(
  "every tool has a description and an object input schema",
  tools.every((t) => t.description && t.inputSchema?.type === "object"),
);
check("every tool has annotations", tools.every((t) => t.annotations && typeof t.annotations.readOnlyHint === "boolean"));

// 2. schema portability lint: no error-severity problems (exit 6 otherwise)
const strict = inspect(["--method", "tools/list", "--strict"]);
check("tools/list --strict exits 0 (no error-severity schema problems)", strict.code === 0, short(strict));

// 3. create → get → list
const email = `e2e-${Date.now()}@example.com`;
const created = call("create_customer", { email, name: "Inspector E2E" });
const cust = created.json?.result?.structuredContent;
check("create_customer exits 0", created.code === 0, short(created));
check("create_customer isError false", created.json?.result?.isError === false);
check("create_customer returns a cus_ reference", /^cus_[A-Z0-9]{8}$/.test(cust?.reference ?? ""), JSON.stringify(cust));
check("create_customer text block carries the JSON", created.json?.result?.content?.some((c) => c.type === "text" && c.text.includes(cust?.reference)));

const got = call("get_customer", { reference: cust?.reference });
check("get_customer exits 0", got.code === 0, short(got));
check("get_customer returns the same email", got.json?.result?.structuredContent?.email === email, JSON.stringify(got.json?.result?.structuredContent));

const listed = call("list_customers", { search: email });
const rows = listed.json?.result?.structuredContent?.customers ?? [];
check("list_customers exits 0", listed.code === 0, short(listed));
check("list_customers finds the new customer", rows.some((c) => c.reference === cust?.reference), JSON.stringify(rows));
check("list_customers has paging fields", typeof listed.json?.result?.structuredContent?.hasMore === "boolean");

const product = call("create_product", { name: `Inspector Product ${Date.now()}` });
const prd = product.json?.result?.structuredContent?.reference;
check("create_product exits 0 with a prd_ reference", product.code === 0 && /^prd_/.test(prd ?? ""), short(product));
const plan = call("create_plan", { productRef: prd, type: "recurring", price: 1500, currency: "USD", billingCycle: "monthly", name: "Inspector Monthly" });
const pln = plan.json?.result?.structuredContent;
check("create_plan exits 0 with price 1500", plan.code === 0 && pln?.price?.amount === 1500, short(plan));
check("create_plan formats the price", pln?.price?.formatted === "$15.00" && pln?.price?.currency === "USD", JSON.stringify(pln?.price));
const plans = call("list_plans_for_product", { productRef: prd });
check(
  "list_plans_for_product lists the plan",
  plans.code === 0 && JSON.stringify(plans.json?.result?.structuredContent ?? {}).includes(pln?.reference ?? "???"),
  short(plans),
);

// 4. demo data
const jane = call("get_customer", { reference: "cus_A1B2C3D4" });
check("demo customer cus_A1B2C3D4 is there (--demo in an earlier run)", jane.code === 0 && !!jane.json?.result?.structuredContent?.email, short(jane));

// 5. errors: exit 5 on a tool error
const missing = call("get_customer", { reference: "cus_NOPE0000" });
check("get_customer cus_NOPE0000 exits 5 (tool error)", missing.code === 5, short(missing));
check("get_customer cus_NOPE0000 reports tool_is_error on stderr", /tool_is_error/.test(missing.stderr), missing.stderr.slice(-300));
const invalid = call("create_customer", { name: "no email" });
check("create_customer without email exits 5 (tool error)", invalid.code === 5, short(invalid));
const unknown = call("no_such_tool", {});
check("unknown tool exits 5 (tool_not_found)", unknown.code === 5 && /tool_not_found/.test(unknown.stderr), short(unknown));

// 6. prompts: listed with their arguments in both eras, rendered with the arguments filled in, a
// bad argument refused naming it. completion/complete is not a --cli method of Inspector 2.12.0
// (its help lists none, and `--method completion/complete` answers "Unsupported method"), so
// completion is checked by the Python suite (e2e/prompts.py) only.
const promptArgs = {
  onboard_customer: ["email", "name", "product", "plan"],
  refund_request: ["customer", "payment", "reason"],
  month_end_usage: ["product", "month", "customer"],
  blocked_customer: ["customer", "product", "plan"],
};
for (const era of ["legacy", "modern"]) {
  const listedPrompts = inspect(["--method", "prompts/list", "--protocol-era", era, "--format", "json"], ["--demo"]);
  const prompts = listedPrompts.json?.result?.prompts ?? [];
  check(`[${era}] prompts/list exits 0`, listedPrompts.code === 0, short(listedPrompts));
  check(
    `[${era}] prompts/list: the four prompts, in order`,
    JSON.stringify(prompts.map((p) => p.name)) === JSON.stringify(Object.keys(promptArgs)),
    JSON.stringify(prompts.map((p) => p.name)),
  );
  for (const [name, args] of Object.entries(promptArgs)) {
    const p = prompts.find((x) => x.name === name);
    check(
      `[${era}] prompts/list: ${name} has arguments ${args.join(", ")}`,
      JSON.stringify((p?.arguments ?? []).map((a) => a.name)) === JSON.stringify(args),
      JSON.stringify(p?.arguments),
    );
  }
}

function getPrompt(name, args, era = "legacy") {
  const pairs = Object.entries(args).map(([k, v]) => `${k}=${v}`);
  return inspect(["--method", "prompts/get", "--protocol-era", era, "--prompt-name", name, "--prompt-args", ...pairs, "--format", "json"]);
}
const text = (r) => r.json?.result?.messages?.[0]?.content?.text ?? "";
const inOrder = (t, parts) => {
  let from = 0;
  for (const part of parts) {
    const at = t.indexOf(part, from);
    if (at < 0) return false;
    from = at + part.length;
  }
  return true;
};
const rendered = [
  [
    "onboard_customer",
    { email: "new@acme.com", product: "prd_P9Q0R1S2", plan: "pln_K5L6M7N8" },
    ['`ensure_customer` with arguments {"email":"new@acme.com"}', "`create_checkout_session` with arguments"],
  ],
  [
    "refund_request",
    { customer: "cus_A1B2C3D4", payment: "txn_D7E8F9G0" },
    [
      '`get_customer` with arguments {"reference":"cus_A1B2C3D4"}',
      '`get_transaction` with arguments {"transactionRef":"txn_D7E8F9G0"}',
      '`get_purchases_by_customer` with arguments {"customerRef":"cus_A1B2C3D4"}',
      '`create_refund` with arguments {"sourceTransactionRef":"txn_D7E8F9G0"}',
    ],
  ],
  [
    "month_end_usage",
    { product: "prd_P9Q0R1S2", month: "2026-01" },
    [
      '`get_product` with arguments {"reference":"prd_P9Q0R1S2"}',
      '`get_purchases_by_product` with arguments {"productRef":"prd_P9Q0R1S2"}',
      '`list_transactions` with arguments {"fromDate":"2026-01-01","toDate":"2026-01-31"}',
    ],
  ],
  [
    "blocked_customer",
    { customer: "cus_X7Y8Z9W0", product: "prd_P9Q0R1S2" },
    [
      '`check_limits` with arguments {"customerRef":"cus_X7Y8Z9W0","productRef":"prd_P9Q0R1S2"}',
      "Only after their yes",
      "`create_checkout_session` with arguments",
    ],
  ],
];
for (const era of ["legacy", "modern"]) {
  for (const [name, args, parts] of rendered) {
    const got = getPrompt(name, args, era);
    check(`[${era}] prompts/get ${name} exits 0`, got.code === 0, short(got));
    check(`[${era}] prompts/get ${name}: the tools in order, values as JSON literals`, inOrder(text(got), parts), text(got).slice(0, 600));
  }
}
const badMonth = getPrompt("month_end_usage", { product: "prd_P9Q0R1S2", month: "2026-13" });
check(
  "prompts/get month_end_usage month=2026-13 fails naming `month`",
  badMonth.code !== 0 && /Invalid argument `month`/.test(badMonth.stdout + badMonth.stderr),
  short(badMonth),
);
const noRefund = inspect(["--method", "prompts/list", "--format", "json"], ["--demo", "--read-only"]);
check(
  "prompts/list --read-only: no refund_request (it needs create_refund)",
  noRefund.code === 0 && !(noRefund.json?.result?.prompts ?? []).some((p) => p.name === "refund_request"),
  short(noRefund),
);

if (failures) {
  console.log(`inspector: ${failures} check(s) failed`);
  process.exit(1);
}
console.log("inspector: all checks passed");
