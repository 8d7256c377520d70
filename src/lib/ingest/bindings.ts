/** The bindings an ingestion needs, built from the env by the entry points (routes, consumers, the job watchdog). */
import { openDb } from "../storage";
import type { StageDeps } from "./stage-upload";

export function ingestDeps(env: Env): StageDeps {
  return {
    db: openDb(env.DB),
    bucket: env.CHUNKS,
    queue: env.INGEST_QUEUE,
    watchJob: (jobId) => env.JOB_WATCHDOG.getByName(jobId).watch(jobId),
  };
}
