/**
 * A tiny npm registry on loopback for the sandbox's install tests: it serves the packuments and tarballs of
 * packages packed with the real `npm pack` from test/fixtures/sandbox, so installs never need the internet.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type PackedPackage = { name: string; version: string; tarball: Buffer; integrity: string };

/** `npm pack` of the package in `dir`: its tarball and the integrity a lockfile records for it. */
export function packPackage(dir: string): PackedPackage {
  const out = mkdtempSync(join(tmpdir(), "winky-pack-"));
  try {
    const [info] = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--pack-destination", out], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }),
    ) as { name: string; version: string; filename: string }[];
    if (!info) throw new Error(`npm pack of ${dir} reported nothing`);
    const tarball = readFileSync(join(out, info.filename));
    return { name: info.name, version: info.version, tarball, integrity: `sha512-${createHash("sha512").update(tarball).digest("base64")}` };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Serves `packages` until closed; `requests` lists the paths asked for. */
export async function startFakeRegistry(packages: PackedPackage[]): Promise<{ url: string; host: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  let base = "";
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0] ?? "/");
    requests.push(path);
    for (const p of packages) {
      const file = `/${p.name}/-/${p.name.split("/").at(-1)}-${p.version}.tgz`;
      if (path === file) return void res.writeHead(200, { "content-type": "application/octet-stream" }).end(p.tarball);
      if (path === `/${p.name}`) {
        const packument = {
          name: p.name,
          "dist-tags": { latest: p.version },
          versions: {
            [p.version]: {
              name: p.name,
              version: p.version,
              dist: { tarball: `${base}${file.slice(1)}`, integrity: p.integrity, shasum: createHash("sha1").update(p.tarball).digest("hex") },
            },
          },
        };
        return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(packument));
      }
    }
    res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  base = `http://127.0.0.1:${port}/`;
  return { url: base, host: `127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
