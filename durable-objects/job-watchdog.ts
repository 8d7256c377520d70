/**
 * JobWatchdog: one per ingestion job (by job id). Its alarm looks at the job every minute through
 * `checkJob` until no batch is queued, then forgets itself. Works the same locally and deployed.
 */
import { DurableObject } from "cloudflare:workers";
import { ingestDeps, jobEnded } from "../src/lib/ingest";
import { checkJob } from "../src/lib/ingest/watchdog";

// How often the job is looked at; stalls are judged by the policy, this only bounds how late.
const CHECK_EVERY_MS = 60_000;

export class JobWatchdog extends DurableObject<Env> {
  /** Starts watching `jobId` (idempotent). */
  async watch(jobId: string): Promise<void> {
    await this.ctx.storage.put("jobId", jobId);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + CHECK_EVERY_MS);
  }

  override async alarm(): Promise<void> {
    const jobId = await this.ctx.storage.get<string>("jobId");
    if (jobId === undefined) return;
    const deps = ingestDeps(this.env);
    const report = await checkJob(deps, jobId, Date.now());
    if (report.requeued.length + report.failed.length > 0) console.warn(JSON.stringify({ watchdog: jobId, ...report }));
    // Also covers a consumer that died between its commit and handing the upload claim on.
    if (report.finished) await jobEnded(deps, jobId);
    if (report.finished) await this.ctx.storage.deleteAll();
    else await this.ctx.storage.setAlarm(Date.now() + CHECK_EVERY_MS);
  }
}
