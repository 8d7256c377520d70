/**
 * A tiny package registry on loopback for the sandbox's install tests: npm packuments and tarballs of
 * packages packed with the real `npm pack`, and a PEP 503 simple index of wheels, both from
 * test/fixtures/sandbox, so installs never need the internet.
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

export type Wheel = { project: string; filename: string; bytes: Buffer };

// A pure-Python wheel is a zip with the package and its .dist-info (PEP 427); Python's own zipfile writes it.
const WHEEL_BUILDER = `
import base64, hashlib, os, sys, zipfile
src, name, version, out = sys.argv[1:5]
dist = name.replace("-", "_")
info = f"{dist}-{version}.dist-info"
files = {}
for root, _, names in os.walk(src):
    for n in sorted(names):
        if n.endswith(".pyc"):
            continue
        p = os.path.join(root, n)
        files[os.path.relpath(p, src).replace(os.sep, "/")] = open(p, "rb").read()
files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n".encode()
files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\\nGenerator: winky-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
record = []
for path, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(data)}")
record.append(f"{info}/RECORD,,")
files[f"{info}/RECORD"] = ("\\n".join(record) + "\\n").encode()
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for path in sorted(files):
        info_ = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
        info_.external_attr = 0o644 << 16
        z.writestr(info_, files[path])
`;

/** A py3-none-any wheel of the package directory `dir` (its top-level packages), built with python3's zipfile. */
export function buildWheel(dir: string, project: string, version: string): Wheel {
  const out = mkdtempSync(join(tmpdir(), "winky-wheel-"));
  const filename = `${project.replace(/-/g, "_")}-${version}-py3-none-any.whl`;
  try {
    execFileSync("python3", ["-c", WHEEL_BUILDER, dir, project, version, join(out, filename)], { stdio: ["ignore", "ignore", "inherit"] });
    return { project, filename, bytes: readFileSync(join(out, filename)) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Serves `packages` and `wheels` until closed; `requests` lists the paths asked for. */
export async function startFakeRegistry(
  packages: PackedPackage[],
  wheels: Wheel[] = [],
): Promise<{ url: string; host: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  let base = "";
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0] ?? "/");
    requests.push(path);
    for (const w of wheels) {
      if (path === `/simple/${w.project}/`) {
        const sha = createHash("sha256").update(w.bytes).digest("hex");
        const html = `<!DOCTYPE html><html><body><a href="/files/${w.filename}#sha256=${sha}">${w.filename}</a></body></html>`;
        return void res.writeHead(200, { "content-type": "text/html" }).end(html);
      }
      if (path === `/files/${w.filename}`) return void res.writeHead(200, { "content-type": "application/octet-stream" }).end(w.bytes);
    }
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
