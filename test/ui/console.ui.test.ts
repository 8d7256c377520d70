/**
 * The web console in Chromium against a real local server and the local Messages API: sign in, create a
 * project, ingest a small archive and watch the job finish, assemble and land on a piece's highlighted
 * lines, run a session and watch its events arrive, approve. Each page is saved to docs/screenshots/.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type Browser, chromium, type Page, type WebSocketRoute } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const { server, adminKey, messagesUrl } = inject("ui");
const SHOTS = "docs/screenshots";
// Debian's Chromium; playwright-core never downloads a browser.
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const GREETING = Array.from({ length: 30 }, (_, i) =>
  i === 12 ? 'export function greetVisitor(name: string): string {\n  return "Hello, " + name;\n}' : `// greeting helper line ${i + 1}`,
).join("\n");

// The change as a unified diff: greetVisitor is lines 13-15 of src/greeting.ts.
const GREETING_DIFF = [
  "--- a/src/greeting.ts",
  "+++ b/src/greeting.ts",
  "@@ -13,3 +13,3 @@",
  " export function greetVisitor(name: string): string {",
  '-  return "Hello, " + name;',
  '+  return "HELLO, " + name.toUpperCase();',
  " }",
  "",
].join("\n");

/** A small repository as a .tar.gz, made with the system's tar like a user's would be. */
function sampleArchive(): string {
  const root = mkdtempSync(join(tmpdir(), "winky-ui-"));
  const files: Record<string, string> = {
    "repo/src/greeting.ts": `${GREETING}\n`,
    "repo/README.md": "# Greeter\n\nSays hello to visitors with greetVisitor.\n",
    "repo/src/config.ts": 'export const port = 8080;\nexport const host = "127.0.0.1";\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  writeFileSync(join(root, "repo/logo.bin"), Buffer.from([0, 1, 2, 3, 255, 0, 7]));
  const archive = join(root, "repo.tar.gz");
  execFileSync("tar", ["-czf", archive, "-C", join(root, "repo"), "."]);
  return archive;
}

const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png` });

describe("the web console", () => {
  let browser: Browser;
  let page: Page;
  let projectId = "";

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("signs in with an API key kept in sessionStorage, never in the URL", async () => {
    await page.goto(`${server}/`);
    await page.getByLabel("API key").fill(adminKey);
    await shot(page, "sign-in");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Projects" }).waitFor();
    expect(page.url()).not.toContain(adminKey);
    expect(await page.evaluate('sessionStorage.getItem("winky.apiKey")')).toBe(adminKey);
  });

  it("a wrong key is refused with what to do", async () => {
    const other = await browser.newPage();
    await other.goto(`${server}/`);
    await other.getByLabel("API key").fill("wk_not_a_real_key");
    await other.getByRole("button", { name: "Sign in" }).click();
    await other.getByRole("alert").waitFor();
    expect(await other.getByRole("alert").textContent()).toMatch(/401.*Sign out and sign in with a valid key/s);
    await other.close();
  });

  it("creates a project and ingests an archive, the progress updating until the job is done", async () => {
    await page.getByLabel("New project").fill("ui-sample");
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/#\/projects\/[^/]+$/);
    projectId = decodeURIComponent(/#\/projects\/([^/?]+)/.exec(page.url())?.[1] ?? "");
    expect(projectId).not.toBe("");
    await page.locator("input[name=archive]").setInputFiles(sampleArchive());
    await page.locator("[data-job-status=done]").waitFor({ timeout: 120_000 });
    const files = page.getByTestId("files");
    await files.getByText("src/greeting.ts").waitFor();
    expect(await files.textContent()).toContain("binary");
    await shot(page, "project");
  });

  it("assembles a context with a usage bar by section and opens a piece on its highlighted lines", async () => {
    await page.getByRole("link", { name: "Context inspector" }).click();
    await page.getByLabel("Prompt").fill("How does greetVisitor build its greeting?");
    await page.getByRole("button", { name: "Assemble" }).click();
    const pieces = page.getByTestId("pieces");
    await pieces.locator("li").first().waitFor();
    const snippets = await page.locator("[data-section=snippets] .mono").textContent();
    expect(Number(snippets?.replace(/,/g, ""))).toBeGreaterThan(0);
    await shot(page, "inspector");

    const piece = pieces.getByRole("link", { name: /src\/greeting\.ts:\d+-\d+/ }).first();
    const label = (await piece.textContent()) ?? "";
    const [, start, end] = /:(\d+)-(\d+)$/.exec(label) ?? [];
    await piece.click();
    await page.waitForURL(/\/chunks\/[^?]+\?lines=\d+-\d+$/);
    expect(page.url()).toContain(`?lines=${start}-${end}`);
    const highlighted = page.locator("[data-testid=source] tr.hl");
    await highlighted.first().waitFor();
    expect(await highlighted.count()).toBe(Number(end) - Number(start) + 1);
    expect(await highlighted.first().getAttribute("data-line")).toBe(start);
    const box = await highlighted.first().boundingBox();
    const inView = box !== null && box.y >= 0 && box.y + box.height <= 800;
    expect(inView).toBe(true);
    await shot(page, "chunk");

    // Back in the inspector the assembly is still there; its ---source lines open the same view.
    await page.goBack();
    const source = page
      .getByTestId("context-text")
      .getByRole("link", { name: /---source: .*src\/greeting\.ts:\d+-\d+/ })
      .first();
    await source.click();
    await page.waitForURL(/\/chunks\/[^?]+\?lines=\d+-\d+$/);
    await page.locator("[data-testid=source] tr.hl").first().waitFor();
  });

  it("runs a session against the Messages API, streams its events live through a dropped socket, and approves the change", async () => {
    const marker = `ui-ask-${Date.now()}`;
    const reply = (match: string, text: string) => fetch(`${messagesUrl}/__reply?match=${encodeURIComponent(match)}`, { method: "PUT", body: text });
    // `{{source:…}}` is filled by the local Messages API with the chunk and lines of that file it was sent.
    const cite = "{{source:src/greeting.ts}}";
    await reply(
      `${marker}\n\nAnswer with JSON only`,
      JSON.stringify({ summary: "greet loudly", steps: [{ description: "uppercase the name", files: ["src/greeting.ts"], sources: [cite] }] }),
    );
    await reply(`${marker}\n\nPlan:`, JSON.stringify({ diff: GREETING_DIFF, sources: [{ claim: "greetVisitor builds the greeting", chunkIds: [cite] }] }));
    // The change's call is refused once (overloaded, retry after 2 s), so the run is surely still going when the socket drops.
    await fetch(`${messagesUrl}/__fail`, { method: "PUT", body: JSON.stringify([{ status: 529, retryAfter: "2", match: `${marker}\n\nPlan:`, times: 1 }]) });

    // Every session socket goes through a proxy the test can cut, and refuse while "offline".
    let offline = false;
    const sockets: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/api\/sessions\/[^/]+\/ws/, (ws) => {
      if (offline) return ws.close({ code: 4001, reason: "offline (test)" });
      sockets.push(ws);
      ws.connectToServer();
    });

    await page.goto(`${server}/#/projects/${encodeURIComponent(projectId)}/session`);
    await page.getByLabel("Ask for a change").fill(marker);
    // No sandbox runner in this run: the change is not verified.
    await page.getByLabel("Verify in the sandbox").uncheck();
    // Layout shifts not caused by the person's input (the cumulative layout shift, CLS), summed by the page from now on.
    await page.evaluate(
      "window.__shift = 0; new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) window.__shift += e.value; }).observe({ type: 'layout-shift' });",
    );
    await page.getByRole("button", { name: "Run" }).click();
    const events = page.getByTestId("events");
    await events.locator("li[data-type=plan]").waitFor({ timeout: 120_000 });

    // The network drops mid-run: the socket is cut and reconnections are refused until it comes back.
    offline = true;
    await sockets.at(-1)?.close({ code: 4000, reason: "network drop (test)" });
    await page
      .getByTestId("connection")
      .getByText(/reconnecting/)
      .waitFor();
    // The run goes on without the page's socket: its answer comes over HTTP while the result event is still missed.
    const result = page.getByTestId("result");
    await result.waitFor({ timeout: 120_000 });
    expect(await events.locator("li[data-type=result]").count()).toBe(0);
    offline = false;
    await events.locator("li[data-type=result]").waitFor({ timeout: 60_000 });
    await page.getByTestId("connection").getByText("live", { exact: true }).waitFor();
    expect(sockets.length).toBeGreaterThan(1);

    // Nothing lost: the events are numbered 1..n without a gap; nothing repeated: each number once, in order.
    const count = Number(await events.getAttribute("data-count"));
    expect(await events.getAttribute("data-first-seq")).toBe("1");
    expect(Number(await events.getAttribute("data-last-seq"))).toBe(count);
    const shown = (await events.locator("li[data-seq]").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-seq"))))) as number[];
    expect(shown).toEqual([...shown].sort((a, b) => a - b));
    expect(new Set(shown).size).toBe(shown.length);
    // The streamed tokens made each answer exactly once.
    const streamed = (await page.getByTestId("stream").textContent()) ?? "";
    expect(streamed.split("uppercase the name")).toHaveLength(2);
    expect(streamed.split("greetVisitor builds the greeting")).toHaveLength(2);

    expect(await events.textContent()).toContain("plan: greet loudly");
    expect(await page.getByTestId("diff").textContent()).toContain('"HELLO, " + name.toUpperCase()');
    expect(await result.getByTestId("claims").textContent()).toBe("supported");
    // Streaming, the drop and the reconnection moved nothing on the page.
    expect(await page.evaluate("window.__shift")).toBe(0);
    await shot(page, "session");
    await result.getByRole("button", { name: "Approve" }).click();
    await page
      .getByTestId("feedback")
      .getByText(/Approved/)
      .waitFor();
  });

  it("shows the change side by side, and its citations open the cited lines", async () => {
    const result = page.getByTestId("result");
    await result.getByRole("button", { name: "Side by side" }).click();
    await page.locator("[data-testid=diff][data-layout=split]").waitFor();
    const changed = page.locator(".diff-split tr", { hasText: "HELLO" });
    expect(await changed.locator("td.code.del").textContent()).toBe('  return "Hello, " + name;');
    expect(await changed.locator("td.code.add").textContent()).toBe('  return "HELLO, " + name.toUpperCase();');
    // Line numbers on both sides: the hunk starts at line 13, the changed line is 14 on each.
    expect(await changed.locator("td.ln").allTextContents()).toEqual(["14", "14"]);
    await shot(page, "session-split");

    const citation = result.locator("a.citation").last();
    const [, start, end] = /:(\d+)-(\d+)$/.exec((await citation.getAttribute("title")) ?? "") ?? [];
    await citation.click();
    await page.waitForURL(/\/chunks\/[^?]+\?lines=\d+-\d+$/);
    expect(page.url()).toContain(`?lines=${start}-${end}`);
    await page.locator("[data-testid=source] tr.hl").first().waitFor();
    await page.goBack();
  });

  it("shows the decision log: each call's model, vendor, tokens, cost and prompt fingerprint, and why", async () => {
    await page.goto(`${server}/#/projects/${encodeURIComponent(projectId)}/generations`);
    const list = page.getByTestId("generations");
    await list.locator("tbody tr").first().waitFor();
    expect(await list.locator("tbody tr").count()).toBe(1);
    // A day range that ends before today finds none.
    await page.getByLabel("To").fill("2020-01-01");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("No generations in these days").waitFor();
    await page.getByLabel("To").fill("");
    await page.getByRole("button", { name: "Filter" }).click();
    await list.locator("tbody tr").first().waitFor();
    await shot(page, "generations");

    // Reached with the keyboard alone: Tab to the generation's link, Enter opens its decision log.
    const target = await list.locator("tbody a").first().getAttribute("href");
    const focused = () => page.evaluate<string | null>("document.activeElement && document.activeElement.getAttribute('href')");
    for (let i = 0; i < 40 && (await focused()) !== target; i++) await page.keyboard.press("Tab");
    expect(await focused()).toBe(target);
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/generations\/gen_[^/]+$/);
    const calls = page.getByTestId("calls");
    await calls.locator("tbody tr").first().waitFor();
    const rows = await calls.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")));
    // A pass whose first answer was refused is still one call; plan and change cited their sources, so no repair.
    expect(rows.map((r) => r[0])).toEqual(["plan", "expand"]);
    for (const [, model, vendor, input, , cost, fingerprint] of rows) {
      expect(model).toMatch(/^claude-/);
      expect(vendor).toBe("anthropic");
      expect(Number(input?.replace(/,/g, ""))).toBeGreaterThan(0);
      expect(cost).toMatch(/^\$\d/);
      expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(await page.getByTestId("claims").textContent()).toBe("supported");
    expect(await page.getByTestId("verification").textContent()).toBe("not verified");
    await shot(page, "generation");
  });

  it("shows usage and the admin pages", async () => {
    await page.getByRole("link", { name: "Usage" }).click();
    await page.getByRole("heading", { name: "Usage" }).waitFor();
    await page.getByText("Spend by day").waitFor();
    await shot(page, "usage");
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    await shot(page, "admin");
  });

  it("charts the metrics the assemblies and the session recorded, and shows the org's limits to an admin", async () => {
    await page.getByRole("link", { name: "Metrics" }).click();
    await page.getByRole("heading", { name: "Metrics" }).waitFor();
    // The inspector's and the session's assemblies were counted (metrics are written just after each answer).
    const assemblies = page.getByTestId("metric-assemblies").locator("strong");
    await expect.poll(async () => Number(await assemblies.textContent()), { timeout: 15_000 }).toBeGreaterThan(0);
    await page.getByText("Assembly p95 by day").waitFor();
    expect(await page.getByText(/^\d+(\.\d)? ms \/ \d+(\.\d)? ms$/).count()).toBe(1);
    await shot(page, "metrics");
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("link", { name: "Quotas and rate limits" }).click();
    await page.getByRole("heading", { name: "Limits" }).waitFor();
    const projects = page.getByLabel("Projects", { exact: true });
    await expect.poll(async () => Number(await projects.inputValue())).toBeGreaterThan(0);
    await projects.fill("123");
    await page.getByRole("button", { name: "Save limits" }).click();
    await page.getByText("Saved.").waitFor();
    expect(await projects.inputValue()).toBe("123");
    await shot(page, "limits");
  });

  it("reaches every control of every page with the keyboard alone", async () => {
    const p = encodeURIComponent(projectId);
    const generation = await page.evaluate<string>(
      `fetch("/api/generations?projectId=${p}", { headers: { authorization: "Bearer " + sessionStorage.getItem("winky.apiKey") } }).then((r) => r.json()).then((b) => b.generations[0].id)`,
    );
    for (const [hash, loaded] of [
      ["#/", "ui-sample"],
      [`#/projects/${p}`, "src/greeting.ts"],
      [`#/projects/${p}/inspect`, "Assemble"],
      [`#/projects/${p}/session`, "Ask for a change"],
      [`#/projects/${p}/generations`, "supported"],
      [`#/projects/${p}/generations/${generation}`, "Model calls"],
      ["#/usage", "Spend by day"],
      ["#/metrics", "Assembly p95 by day"],
      ["#/admin", "Audit log"],
      ["#/admin/limits", "Save limits"],
    ] as const) {
      await page.goto(`${server}/${hash}`);
      await page.getByText(loaded).first().waitFor();
      // Number every visible, enabled control; then Tab through the page and note which ones took the focus.
      const controls = await page.evaluate<number>(`(() => {
        const all = [...document.querySelectorAll("a[href], button, input, select, textarea, summary")]
          // What a closed <details> holds is reached by opening it (its summary is a control).
          .filter((e) => !e.disabled && e.type !== "hidden" && e.getClientRects().length > 0 && !e.closest("details:not([open]) > :not(summary)"));
        all.forEach((e, i) => e.setAttribute("data-kb", String(i)));
        window.__kb = new Set();
        document.addEventListener("focusin", (ev) => { const i = ev.target.getAttribute && ev.target.getAttribute("data-kb"); if (i !== null) window.__kb.add(i); });
        document.activeElement && document.activeElement.blur();
        return all.length;
      })()`);
      for (let i = 0; i < controls + 15; i++) await page.keyboard.press("Tab");
      const missed = await page.evaluate<string[]>(
        `[...document.querySelectorAll("[data-kb]")].filter((e) => !window.__kb.has(e.getAttribute("data-kb"))).map((e) => e.outerHTML.slice(0, 80))`,
      );
      expect(missed, `${hash}: controls the keyboard never reached`).toEqual([]);
      expect(controls).toBeGreaterThan(0);
    }
  });

  it("stays readable on a phone in the dark", async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, colorScheme: "dark" });
    // A shared link holds only ids: it opens the same page in another tab once that tab is signed in.
    await phone.goto(`${server}/#/projects/${encodeURIComponent(projectId)}`);
    await phone.evaluate(`sessionStorage.setItem("winky.apiKey", ${JSON.stringify(adminKey)})`);
    await phone.reload();
    await phone.getByTestId("files").waitFor();
    const overflow = await phone.evaluate<number>("document.documentElement.scrollWidth - innerWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(phone, "project-phone-dark");
    await phone.goto(`${server}/#/projects/${encodeURIComponent(projectId)}/generations`);
    await phone.getByTestId("generations").locator("tbody a").first().click();
    await phone.getByTestId("calls").waitFor();
    expect(await phone.evaluate<number>("document.documentElement.scrollWidth - innerWidth")).toBeLessThanOrEqual(0);
    await shot(phone, "generation-phone-dark");
    // Every other page fits the phone's width too (wide tables scroll inside their own box).
    const p = encodeURIComponent(projectId);
    // Each page with something that shows its data has arrived.
    for (const [hash, loaded] of [
      ["#/", "ui-sample"],
      [`#/projects/${p}/inspect`, "Assemble"],
      [`#/projects/${p}/session`, "Ask for a change"],
      ["#/usage", "Spend by day"],
      ["#/metrics", "Assembly p95 by day"],
      ["#/admin", "Audit log"],
      ["#/admin/limits", "Save limits"],
    ] as const) {
      await phone.goto(`${server}/${hash}`);
      await phone.getByText(loaded).first().waitFor();
      expect(await phone.evaluate<number>("document.documentElement.scrollWidth - innerWidth"), `${hash} is wider than the phone`).toBeLessThanOrEqual(0);
    }
    await phone.close();
  });
});
