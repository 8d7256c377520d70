/**
 * The stall issue 10 found: miniflare's local queue broker awaited its log write before it marked its
 * flush finished, so one failed write to the loopback server left the queue delivering nothing until a
 * restart. patches/ makes the broker's log writes unable to fail a flush; this test cuts one for real.
 */
import { describe, expect, inject, it } from "vitest";
import { api, createProject, json, waitForJob } from "../support/api";
import { tarGz } from "../support/archives";

const faults = inject("loopbackFaultsUrl");

async function ingest(name: string): Promise<string> {
  const projectId = await createProject();
  const body = await tarGz([{ path: `${name}.py`, content: `def ${name}():\n    return 1\n` }]);
  const { jobId } = await json<{ jobId: string }>(
    await api(`/api/projects/${projectId}/ingest`, { method: "POST", body, headers: { "content-type": "application/gzip" } }),
    202,
  );
  return jobId;
}

/** How many log writes the trap cut, once it cut one or the time is up. */
async function firedWithin(ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { fired } = (await (await fetch(`${faults}/fired`)).json()) as { fired: number };
    if (fired > 0 || Date.now() > deadline) return fired;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("local queue broker", () => {
  it("keeps delivering after one of its log writes fails", async () => {
    expect((await fetch(`${faults}/break-next-log`, { method: "POST" })).status).toBe(204);
    expect((await waitForJob(await ingest("first"), undefined, 30_000)).status).toBe("done");
    // The broker logs a delivery after the consumer's work, so on a busy machine the cut can come after the
    // job reads done: wait for it rather than read it once.
    expect(await firedWithin(30_000)).toBe(1);
    // Before the patch, nothing after the cut write was delivered: this job stayed queued.
    expect((await waitForJob(await ingest("second"), undefined, 30_000)).status).toBe("done");
  });
});
