/**
 * `voxelpipe serve <dir>`: a static file server for an exported site, on 127.0.0.1 only (browsers
 * fetch the manifest, weights and wasm over HTTP, not from file://). GET and HEAD; paths cannot
 * leave the folder.
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, resolve, sep } from "node:path";
import { Codes, VoxelpipeError } from "@voxelpipe/core";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".gz": "application/gzip",
  ".nii": "application/octet-stream",
  ".safetensors": "application/octet-stream",
};

export interface SiteServer {
  url: string;
  close(): Promise<void>;
}

/** serve `dir` on 127.0.0.1:`port` (0: any free port) */
export async function serveSite(dir: string, port = 8080): Promise<SiteServer> {
  const root = resolve(dir);
  if (!existsSync(join(root, "index.html"))) {
    throw new VoxelpipeError({
      code: Codes.serve,
      message: `${root} has no index.html`,
      hint: "serve the folder `voxelpipe export web --out <dir>` wrote",
    });
  }
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return void res.writeHead(405, { allow: "GET, HEAD" }).end();
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    } catch {
      return void res.writeHead(400).end();
    }
    let file = resolve(root, `.${path}`);
    if (file !== root && !file.startsWith(root + sep)) return void res.writeHead(403).end();
    try {
      if (statSync(file).isDirectory()) file = join(file, "index.html");
      const st = statSync(file);
      res.writeHead(200, {
        "content-type": TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
        "content-length": st.size,
        "cache-control": "no-cache",
      });
      if (req.method === "HEAD") return void res.end();
      createReadStream(file)
        .on("error", () => res.destroy())
        .pipe(res);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok, ko) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      ko(
        new VoxelpipeError({
          code: Codes.serve,
          message: `cannot listen on 127.0.0.1:${port}: ${e.code === "EADDRINUSE" ? "the port is in use" : e.message}`,
          hint: "choose another port with --port (0: any free one)",
        }),
      ),
    );
    server.listen(port, "127.0.0.1", ok);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
