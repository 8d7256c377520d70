/** The bindings an ingestion needs, built once from the Worker's env (only entry points read env). */
import type { StageDeps } from "../src/lib/ingest";
import { openDb } from "../src/lib/storage";

export function ingestDeps(env: Env): StageDeps {
  return {
    db: openDb(env.DB),
    bucket: env.CHUNKS,
    queue: env.INGEST_QUEUE,
    watchJob: (jobId) => env.JOB_WATCHDOG.getByName(jobId).watch(jobId),
  };
}
