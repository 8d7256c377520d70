/** Sends a job's messages to the ingestion queue and starts the job's watchdog. */
import { AppError } from "../errors";
import type { Db } from "../storage";
import { failJob } from "./jobs";
import type { IngestMessage } from "./messages";

/** Starts the job's watchdog (see watchdog.ts), so a stalled batch is re-sent or failed, never silent. */
export type WatchJob = (jobId: string) => Promise<void>;

// Queue.sendBatch takes at most 100 messages per call.
const SEND_BATCH = 100;

/** Sends a job's messages and starts its watchdog; if the queue refuses, the job is marked failed so the loss is visible. */
export async function enqueue(deps: { db: Db; queue: Queue<IngestMessage>; watchJob: WatchJob }, jobId: string, messages: IngestMessage[]): Promise<void> {
  try {
    for (let i = 0; i < messages.length; i += SEND_BATCH) {
      const batch = messages.slice(i, i + SEND_BATCH).map((body) => ({ body }));
      await withRetries(() => deps.queue.sendBatch(batch));
    }
  } catch (e) {
    await failJob(deps.db, jobId, `could not enqueue the job: ${String(e)}`);
    throw new AppError(503, "queue_unavailable", "the ingestion queue did not accept the job; it is recorded as failed, retry the upload");
  }
  // The job is already on its way; a watchdog that cannot start now is logged, not a failed upload.
  await deps.watchJob(jobId).catch((e: unknown) => console.error(JSON.stringify({ jobId, error: `watchdog not started: ${String(e)}` })));
}

// A refused send is tried again after 0.2 s and 0.8 s: a message sent twice is processed once (batch rows).
const SEND_RETRY_MS = [200, 800];

async function withRetries(send: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await send();
      return;
    } catch (e) {
      const wait = SEND_RETRY_MS[attempt];
      if (wait === undefined) throw e;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
