// What the MCP Apps e2e scripts share: the check counter, the binary on --demo over stdio as a host
// that declares the Apps extension (@modelcontextprotocol/sdk's Node client), and the minimal host
// page (host.html + host.js, ext-apps's AppBridge bundled by esbuild) in headless Chromium, served
// by the script itself so nothing leaves the machine, with the view's tools/call forwarded to the
// binary.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { launch } from "../chromium.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const artifacts = join(here, "..", "artifacts");
export const MIME = "text/html;profile=mcp-app";

/// `check(name, cond, detail)` prints one line per check; `done()` prints the verdict and exits.
export function checks(title) {
  let failures = 0;
  const check = (name, cond, detail = "") => {
    console.log(cond ? `  ok   ${name}` : `  FAIL ${name}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
    if (!cond) failures += 1;
    return cond;
  };
  const done = () => {
    console.log(failures ? `${title}: ${failures} check(s) failed` : `${title}: all checks passed`);
    process.exit(failures ? 1 : 0);
  };
  return { check, done };
}

/// The binary (argv[2]) on its demo sandbox in a data dir of its own, as an Apps host's client.
export function demoClient(script) {
  const bin = process.argv[2];
  if (!bin) {
    console.error(`usage: node apps/${script} <binary>`);
    process.exit(2);
  }
  const dataDir = mkdtempSync(join(tmpdir(), "solvapay-e2e-apps-"));
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
  return {
    client,
    connect: () => client.connect(transport),
    close: async () => {
      await client.close().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/// Chromium on the host page, ready (`window.hostReady`), each tools/call of a view pushed on
/// `calls` and forwarded to `client`; page errors collected in `errors`.
export async function hostPage(client, calls) {
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
  const browser = await launch({ width: 640, height: 820 });
  const page = await browser.page();
  page.setDefaultTimeout(15_000);
  await browser.context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== "http://host.test") return route.abort();
    if (url.pathname === "/") return route.fulfill({ status: 200, contentType: "text/html", body: hostHtml });
    if (url.pathname === "/host.js") return route.fulfill({ status: 200, contentType: "text/javascript", body: hostJs });
    return route.fulfill({ status: 404, body: "" });
  });
  await page.exposeFunction("hostCallTool", async (params) => {
    calls.push(params);
    return await client.callTool(params);
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto("http://host.test/", { waitUntil: "load" });
  await page.waitForFunction(() => window.hostReady === true);
  return { browser, page, errors };
}
