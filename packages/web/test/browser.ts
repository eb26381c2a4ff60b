/**
 * Headless Debian Chromium for browser tests, driven by playwright-core (which never downloads a browser), and a
 * static file server on 127.0.0.1. Under CI a missing /usr/bin/chromium is a failure (`.ci/run` installs it).
 */

import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { isCI } from "../../../test-utils/gates.js";

export const CHROMIUM = process.env.VOXELPIPE_CHROMIUM ?? "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);
if (isCI() && !hasChromium) throw new Error(`CI: ${CHROMIUM} is missing (.ci/run installs Debian's chromium)`);

export interface HeadlessBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Launch headless Chromium; `webgpu` exposes WebGPU on SwiftShader (no GPU needed). */
export async function launchChromium(opts: { webgpu?: boolean } = {}): Promise<HeadlessBrowser> {
  const profile = await mkdtemp(join(tmpdir(), "vp-chromium-"));
  const args = [
    "--no-sandbox",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    ...(opts.webgpu
      ? ["--enable-unsafe-webgpu", "--enable-unsafe-swiftshader", "--use-angle=swiftshader", "--disable-gpu-sandbox"]
      : ["--disable-gpu"]),
  ];
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args });
  const browser = context.browser();
  if (!browser) throw new Error("chromium: no browser handle");
  return {
    browser,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A new page of the launched browser at a viewport size: pages come from its persistent context, whose newPage()
 * takes no options, so the size is set on the page.
 */
export async function openPage(chrome: HeadlessBrowser, viewport: { width: number; height: number }): Promise<Page> {
  const page = await chrome.browser.contexts()[0].newPage();
  await page.setViewportSize(viewport);
  return page;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".css": "text/css",
};

/** Serve `root` on 127.0.0.1 (a random port); returns the base URL and a stop function. */
export async function serveStatic(root: string): Promise<{ url: string; stop(): Promise<void> }> {
  const base = resolve(root);
  const server: Server = createServer(async (req, res) => {
    const path = normalize(join(base, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)));
    if (!path.startsWith(base)) return void res.writeHead(403).end();
    try {
      const file = (await stat(path)).isDirectory() ? join(path, "index.html") : path;
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, stop: () => new Promise<void>((ok) => server.close(() => ok())) };
}
