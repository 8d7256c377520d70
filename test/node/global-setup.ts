/**
 * Runs in Node before the workers pool starts: a real HTTP server that plays the git host, and the
 * webhook payloads published in @octokit/webhooks-examples (read here, since the package is a 4 MB JSON),
 * and a real source corpus of over 1M tokens (scripts/corpus.ts).
 */

import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import type { TestProject } from "vitest/node";
import { buildCorpus } from "../../scripts/corpus";
import { startRunner } from "../../src/lib/sandbox/runner/server";
import { buildWheel, packPackage, startFakeRegistry } from "./fake-registry";
import { buildGitDiffs } from "./git-diffs";
import { startGitHost } from "./git-host-server";
import { startLoopbackFaults } from "./loopback-faults";
import { startMessagesServer } from "./messages-server";
import { buildRealToolArchives } from "./real-tool-archives";

type Example = { name: string; examples: Record<string, unknown>[] };

const FIXTURES = "test/fixtures/sandbox";

/** The invoice fixture's files, its lockfile's integrity set to the tarball just packed (gzip output varies by Node version). */
function invoiceProject(integrity: string): { path: string; content: string }[] {
  return filesOf(`${FIXTURES}/invoice-project`).map((f) =>
    f.path === "package-lock.json" ? { ...f, content: f.content.replace(/"integrity": "[^"]+"/, `"integrity": "${integrity}"`) } : f,
  );
}

/**
 * The invoice fixture with another package manager's lockfile in place of npm's (test/fixtures/sandbox/lockfiles/,
 * made by pnpm and yarn for it), its integrity and tarball hash set to the tarball just packed.
 */
function invoiceWith(
  lockfile: "pnpm-lock.yaml" | "yarn.lock",
  pad: { integrity: string; tarball: Buffer },
  registryUrl: string,
): { path: string; content: string }[] {
  const sha1 = createHash("sha1").update(pad.tarball).digest("hex");
  const content = readFileSync(`${FIXTURES}/lockfiles/${lockfile}`, "utf8")
    .replace(/sha512-[A-Za-z0-9+/=]+/g, pad.integrity)
    .replace(/\.tgz#[0-9a-f]{40}/g, `.tgz#${sha1}`)
    // yarn classic downloads from the URL its lockfile records, never from the configured registry: the lockfile
    // is as yarn writes it against the registry it was made with, here the tests' own.
    .replaceAll("https://registry.yarnpkg.com/", registryUrl);
  return [...invoiceProject(pad.integrity).filter((f) => f.path !== "package-lock.json"), { path: lockfile, content }];
}

/** Whether the sandbox would find `tool`: it sees only /usr, so a tool elsewhere (a rustup in a home) does not count. */
const inSandboxPath = (tool: string): boolean =>
  spawnSync("/bin/sh", ["-c", `command -v ${tool}`], { env: { ...process.env, PATH: "/usr/local/bin:/usr/bin:/bin" } })
    .stdout.toString()
    .startsWith("/usr/");

/** Every file under `root` with its path from there, in path order. */
function filesOf(root: string): { path: string; content: string }[] {
  const files: { path: string; content: string }[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.push({ path: relative(root, p), content: readFileSync(p, "utf8") });
    }
  };
  walk(root);
  return files;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const host = await startGitHost();
  project.provide("gitHostUrl", host.url);
  const path = createRequire(import.meta.url).resolve("@octokit/webhooks-examples");
  const all = JSON.parse(readFileSync(path, "utf8")) as Example[];
  project.provide("webhookExamples", {
    push: all.find((e) => e.name === "push")?.examples ?? [],
    ping: all.find((e) => e.name === "ping")?.examples ?? [],
  });
  // The corpus for the 1M-token end-to-end ingest.
  const corpus = buildCorpus(1_000_000);
  project.provide("corpus", {
    archiveBase64: corpus.archive.toString("base64"),
    tokens: corpus.tokens,
    bytes: corpus.bytes,
    files: corpus.files.map((f) => ({ path: f.path, bytes: Buffer.byteLength(f.text) })),
  });
  // A local npm registry and package index serving packages built from test/fixtures/sandbox, so installs need no internet.
  const pad = packPackage(`${FIXTURES}/pad-dependency`);
  const slug = buildWheel(`${FIXTURES}/slug-dependency`, "winky-fixture-slug", "1.0.0");
  const registry = await startFakeRegistry([pad], [slug]);
  project.provide("sandboxFixtures", {
    invoiceProject: invoiceProject(pad.integrity),
    invoiceFix: readFileSync(`${FIXTURES}/invoice-project.fix.diff`, "utf8"),
    slugProject: filesOf(`${FIXTURES}/slug-project`),
    slugFix: readFileSync(`${FIXTURES}/slug-project.fix.diff`, "utf8"),
    pnpmProject: invoiceWith("pnpm-lock.yaml", pad, registry.url),
    yarnProject: invoiceWith("yarn.lock", pad, registry.url),
    cargoProject: filesOf(`${FIXTURES}/cargo-project`),
    cargoFix: readFileSync(`${FIXTURES}/cargo-project.fix.diff`, "utf8"),
    toolchains: { pnpm: inSandboxPath("pnpm"), yarn: inSandboxPath("yarn"), cargo: inSandboxPath("cargo") },
  });
  // The local sandbox runner, for real: bubblewrap must be installed (.ci/run installs it). Installs may
  // reach only the local registry.
  const secret = randomBytes(16).toString("hex");
  const runner = await startRunner({
    port: 0,
    secret,
    root: "/tmp/winky-test-runs",
    registries: { npm: { url: registry.url, hosts: [registry.host] }, pypi: { url: `${registry.url}simple/`, hosts: [registry.host] } },
  });
  console.log(JSON.stringify({ sandboxRunner: runner.limits }));
  project.provide("sandboxRunner", { url: runner.url, secret, limits: runner.limits, registryHost: registry.host });
  // A second runner with an install cache of a few MiB, for the eviction tests (uids of its own).
  const smallCacheBytes = 8 * 1024 * 1024;
  const smallCache = await startRunner({
    port: 0,
    secret,
    root: "/tmp/winky-test-runs-small-cache",
    firstUid: 60_100,
    slots: 4,
    cacheMaxBytes: smallCacheBytes,
  });
  project.provide("sandboxRunnerSmallCache", { url: smallCache.url, secret, maxBytes: smallCacheBytes });
  // Diffs printed by the real git, for the diff-application tests.
  project.provide("gitDiffs", buildGitDiffs());
  const messages = await startMessagesServer();
  project.provide("messagesApiUrl", messages.url);
  // Archives made by GNU tar, bsdtar, git archive and Info-ZIP, served on loopback.
  const archives = await buildRealToolArchives();
  project.provide("realArchivesUrl", archives.url);
  // Cuts one of miniflare's log writes, for the queue broker test.
  const loopbackFaults = await startLoopbackFaults();
  project.provide("loopbackFaultsUrl", loopbackFaults.url);
  return async () => {
    await loopbackFaults.close();
    await messages.close();
    await host.close();
    await runner.close();
    await smallCache.close();
    await registry.close();
    await archives.close();
  };
}
