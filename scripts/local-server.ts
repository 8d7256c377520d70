/** Starts a private local server (wrangler dev, fresh state) for the benchmark and eval scripts, and calls it. */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, openSync, rmSync } from "node:fs";

export type LocalServer = {
  base: string;
  /** The admin key (every scope) of the org the server was started with, and that org. */
  token: string;
  orgId: string;
  /** The process group of `wrangler dev` and the workerd it runs. */
  pgid: number | undefined;
  call<T>(path: string, init?: RequestInit): Promise<T>;
  /** The headers of the last answer `call` returned (a benchmark reads the Worker's Server-Timing from them). */
  lastHeaders?: Headers;
  /**
   * Milliseconds of the last answer `call` had: from sending the request to its body's last byte. A client's
   * latency, without `call`'s own turn through the timers before sending, or the parse after.
   */
  lastMs?: number;
  stop(): void;
};

/**
 * Extra settings for a private server: more `--var`s for the Worker, files for wrangler's output (the
 * Worker's logs), and `reuse` to start on the state a previous run left (acting with that run's key)
 * instead of a fresh one.
 */
export type LocalServerOptions = {
  vars?: Record<string, string>;
  stdoutPath?: string;
  stderrPath?: string;
  reuse?: { token: string; orgId: string };
  /** The V8 inspector's port (wrangler's default is 9229, which a second server on the machine may hold). */
  inspectorPort?: number;
  /** The tree whose Worker is served (another checkout of the project); this one by default. */
  cwd?: string;
};

/** The Worker's own milliseconds for the last answer `call` had (its `Server-Timing`), NaN without one. */
export function workerMs(server: LocalServer): number {
  return Number(/app;dur=(\d+)/.exec(server.lastHeaders?.get("server-timing") ?? "")?.[1] ?? Number.NaN);
}

export async function startLocalServer(port: number, state: string, options: LocalServerOptions = {}): Promise<LocalServer> {
  const bootstrap = `wk_boot_${randomBytes(16).toString("hex")}`;
  // Another server on the port would answer in this one's place (with another bootstrap token).
  const taken = await fetch(`http://127.0.0.1:${port}/health`).then(
    () => true,
    () => false,
  );
  if (taken) throw new Error(`port ${port} is in use by another server; stop it or choose another port`);
  if (!options.reuse) rmSync(state, { recursive: true, force: true });
  mkdirSync(state, { recursive: true });
  const migrate = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", state], {
    cwd: options.cwd,
    env: { ...process.env, CI: "true" },
    encoding: "utf8",
  });
  if (migrate.status !== 0) throw new Error(`migrations failed: ${migrate.stderr}`);
  const child: ChildProcess = spawn(
    "npx",
    [
      "wrangler",
      "dev",
      "--local",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      state,
      "--var",
      `WINKY_API_TOKEN:${bootstrap}`,
      "--var",
      `WINKY_SEAL_KEY:${randomBytes(32).toString("base64")}`,
      ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
      "--show-interactive-dev-session=false",
      ...(options.inspectorPort ? ["--inspector-port", String(options.inspectorPort)] : []),
    ],
    {
      stdio: ["ignore", options.stdoutPath ? openSync(options.stdoutPath, "a") : "ignore", options.stderrPath ? openSync(options.stderrPath, "a") : "inherit"],
      cwd: options.cwd,
      env: process.env,
      detached: true,
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const server: LocalServer = {
    base,
    token: "",
    orgId: "",
    pgid: child.pid,
    async call<T>(path: string, init: RequestInit = {}): Promise<T> {
      const method = (init.method ?? "GET").toUpperCase();
      // After a long synchronous stretch (building a corpus), a kept-alive socket the server has closed
      // meanwhile stays in undici's pool until its keep-alive timer runs; a write sent on it fails with
      // "other side closed" and cannot be sent again safely. A turn through the timers phase retires it first.
      await new Promise((resolve) => setTimeout(resolve, 1));
      for (let attempt = 1; ; attempt++) {
        let res: Response;
        const sent = performance.now();
        try {
          res = await answerOf(`${base}${path}`, method, path, {
            ...init,
            headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${server.token}` },
          });
        } catch (e) {
          if (!(e instanceof NoAnswer) || method !== "GET" || attempt >= CALL_ATTEMPTS) throw e;
          console.warn(`${e.message}; sending it again`);
          continue;
        }
        const text = await res.text();
        server.lastMs = performance.now() - sent;
        // wrangler's dev proxy lost its connection to the Worker: a read is sent again; a write is not, since
        // the Worker may have acted on it.
        if (isDevProxyLoss(res.status, text) && method === "GET" && attempt < CALL_ATTEMPTS) continue;
        if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
        server.lastHeaders = res.headers;
        return JSON.parse(text) as T;
      }
    },
    stop() {
      // The whole group (wrangler, workerd); one that is gone already is no error.
      try {
        if (child.pid) process.kill(-child.pid, "SIGTERM");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
      }
    },
  };
  // wrangler gives up at once on a bad configuration (a missing assets directory, before `npm run build`):
  // its exit is the answer, not two minutes of polling.
  let exited: string | undefined;
  child.once("exit", (code, signal) => {
    exited = signal ? `signal ${signal}` : `code ${code}`;
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exited) throw new Error(`wrangler dev exited (${exited}) before the local server answered; its errors are above`);
    const up = await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      server.stop();
      throw new Error("the local server did not start within 2 minutes");
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  if (options.reuse) {
    server.token = options.reuse.token;
    server.orgId = options.reuse.orgId;
    return server;
  }
  // Only the bootstrap token creates orgs; everything after acts with the new org's admin key.
  const res = await fetch(`${base}/api/orgs`, {
    method: "POST",
    headers: { authorization: `Bearer ${bootstrap}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "local" }),
  });
  if (!res.ok) {
    server.stop();
    throw new Error(`creating the local org failed: ${res.status} ${await res.text()}`);
  }
  const org = (await res.json()) as { apiKey: string; orgId: string };
  server.token = org.apiKey;
  server.orgId = org.orgId;
  return server;
}

/**
 * wrangler's dev proxy's own answer (503, plain text) when its forward to the Worker failed: a reload
 * under way, or (patches/wrangler+*.patch) a connection to the Worker lost with the Worker unchanged.
 */
export function isDevProxyLoss(status: number, text: string): boolean {
  return status === 503 && (text.startsWith("Your worker restarted mid-request") || text.startsWith("The connection to the local Worker was lost"));
}

// A read answers in milliseconds; a write (an upload of hundreds of MB, a 500k-token assembly on a busy
// machine) in well under ten minutes. Past these, the request is taken as lost rather than awaited forever.
const READ_TIMEOUT_MS = 60_000;
const WRITE_TIMEOUT_MS = 10 * 60_000;
const CALL_ATTEMPTS = 3;

/**
 * The server's answer, or a clear error once the request has waited past its deadline (a caller's own
 * signal replaces it). Under `wrangler dev` a request can be lost between wrangler's proxy and the Worker
 * (docs/architecture.md, "Requests lost under wrangler dev"); a script must fail or retry, never hang.
 */
async function answerOf(url: string, method: string, path: string, init: RequestInit): Promise<Response> {
  const ms = method === "GET" ? READ_TIMEOUT_MS : WRITE_TIMEOUT_MS;
  try {
    return await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(ms) });
  } catch (e) {
    if (e instanceof Error && e.name === "TimeoutError")
      throw new NoAnswer(`${method} ${path}: the local server sent no answer within ${ms / 1000} s`, { cause: e });
    throw e;
  }
}

class NoAnswer extends Error {
  override name = "NoAnswer";
}

export type Job = {
  status: string;
  files: { total: number; done: number; unchanged: number };
  chunks: number;
  chunksWritten: number;
  tokens: number;
  errors: unknown[];
};

/** Uploads a .tar.gz and waits for its job; the time is measured from the client. */
export async function ingestArchive(server: LocalServer, projectId: string, archive: Uint8Array): Promise<{ ms: number; job: Job }> {
  const t0 = performance.now();
  const { jobId } = await server.call<{ jobId: string }>(`/api/projects/${projectId}/ingest`, {
    method: "POST",
    headers: { "content-type": "application/gzip" },
    body: archive,
  });
  for (;;) {
    const job = await server.call<Job>(`/api/jobs/${jobId}`);
    if (job.status === "done" || job.status === "failed") return { ms: performance.now() - t0, job };
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Lifts the org's quotas for a measurement that assembles billions of tokens (an admin's own setting). */
export async function liftQuotas(server: LocalServer): Promise<void> {
  await server.call(`/api/orgs/${server.orgId}/limits`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tokensAssembledPerDay: 1e12, projects: 1e6, storedBytes: 1e12, perProject: { tokensAssembledPerDay: null } }),
  });
}

export async function createProject(server: LocalServer, name: string): Promise<string> {
  return (
    await server.call<{ projectId: string }>("/api/projects", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name }),
    })
  ).projectId;
}

/** Resident memory of the server's workerd processes in MiB, or undefined once the group is gone. */
export function workerdRssMiB(server: LocalServer): number | undefined {
  if (server.pgid === undefined) return undefined;
  try {
    const out = execFileSync("ps", ["-o", "rss=,comm=", "-g", String(server.pgid)], { encoding: "utf8" });
    let kib = 0;
    for (const line of out.trim().split("\n")) {
      const [rss, comm] = line.trim().split(/\s+/);
      if (comm?.startsWith("workerd")) kib += Number(rss);
    }
    return kib / 1024;
  } catch {
    return undefined;
  }
}
