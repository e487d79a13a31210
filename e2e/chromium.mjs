// Headless Chromium for the e2e scripts: Debian's /usr/bin/chromium ($CHROMIUM elsewhere), driven by
// playwright-core, in a throwaway profile, with nothing running in the background.
// `const browser = await launch({ width, height }); ... await browser.close();`
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function launch(viewport) {
  const profile = mkdtempSync(join(tmpdir(), "solvapay-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport,
    timeout: 30_000,
  });
  return {
    context,
    page: async () => context.pages()[0] ?? (await context.newPage()),
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
