import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hasChromium, launchChromium, serveStatic } from "./browser.js";

describe.skipIf(!hasChromium)("headless Chromium from Debian", () => {
  it("loads a page from 127.0.0.1 and sees WebGPU on SwiftShader", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vp-site-"));
    await writeFile(
      join(dir, "index.html"),
      `<body><script>(async()=>{const a=await navigator.gpu?.requestAdapter();document.body.dataset.status=a?"gpu:"+a.info.architecture:"none"})()</script></body>`,
    );
    const site = await serveStatic(dir);
    const chrome = await launchChromium({ webgpu: true });
    try {
      const page = await chrome.browser.contexts()[0].newPage();
      await page.goto(site.url);
      await page.waitForSelector("body[data-status]");
      expect(await page.getAttribute("body", "data-status")).toBe("gpu:swiftshader");
    } finally {
      await chrome.close();
      await site.stop();
    }
  });
});
