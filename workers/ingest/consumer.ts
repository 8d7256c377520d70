/**
 * Queue consumers. The main queue processes ingestion batches: a failure is recorded on the batch and
 * the message retried with backoff; after max_retries the queue dead-letters it, and the DLQ consumer
 * marks the batch failed so the job shows it. Messages that fail validation are dead-lettered at once.
 */
import { z } from "zod";
import { GitHostError } from "../../src/lib/git-host";
import { IngestMessage, ingestDeps, jobEnded, markBatchFailed, PermanentError, processMessage, recordAttemptError } from "../../src/lib/ingest";
import { orgConcurrency, orgGate } from "../../src/lib/model/org-gate";
import { smallModelClient } from "../../src/lib/model/small-model";
import { DeleteProjectMessage, runDeletionStep } from "../../src/lib/projects/delete-project";
import { faultDeadlines, faultsEnabled, faultyBucket, faultyD1, faultyShards, inject } from "../../src/lib/resilience/faults";
import { openDb } from "../../src/lib/storage";
import {
  type SummarizeFilesMessage,
  type SummaryDeps,
  SummaryMessage,
  smallModel,
  summariesDeadLettered,
  summariesDefault,
  summarizeDirectories,
  summarizeFiles,
} from "../../src/lib/summaries";

// Backoff between attempts: 2 s, 8 s, 32 s.
export const retryDelaySeconds = (attempts: number): number => 2 * 4 ** Math.max(0, attempts - 1);

// Queues delays a retry by at most 12 hours (43,200 s); a git host asking for longer is retried then.
const MAX_RETRY_DELAY_SECONDS = 12 * 60 * 60;

/** The wait a rate-limited git host asked for (clamped to what Queues allows), else the backoff. */
export const retryDelayFor = (e: unknown, attempts: number): number =>
  e instanceof GitHostError && e.retryAfterSeconds !== undefined ? Math.min(e.retryAfterSeconds, MAX_RETRY_DELAY_SECONDS) : retryDelaySeconds(attempts);

const JobRef = z.object({ jobId: z.string(), seq: z.number().int() });

export async function consumeIngest(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  // Tests switch on fault injection with the WINKY_FAULTS binding; deployed Workers never have it.
  const faults = faultsEnabled(env);
  const db = openDb(faults ? faultyD1(env.DB) : env.DB);
  const deps = {
    db,
    bucket: faults ? faultyBucket(env.CHUNKS) : env.CHUNKS,
    gitHostUrl: env.GIT_API_BASE_URL,
    sealKey: env.WINKY_SEAL_KEY,
    projectIndex: faults ? faultyShards(env.PROJECT_INDEX) : env.PROJECT_INDEX,
    deadlines: faults ? faultDeadlines() : undefined,
    summaries: env.ANTHROPIC_API_KEY
      ? {
          deploymentDefault: summariesDefault(env),
          send: async (msgs: SummarizeFilesMessage[]) => void (await env.INGEST_QUEUE.sendBatch(msgs.map((body) => ({ body })))),
        }
      : undefined,
  };
  for (const message of batch.messages) {
    // A project deletion's steps share the queue, the retries and the dead-letter path with ingestion.
    const deletion = DeleteProjectMessage.safeParse(message.body);
    if (deletion.success) {
      await consumeDeletionStep(env, db, message, deletion.data);
      continue;
    }
    // Model-written summaries follow indexed batches on the same queue; they never hold a job open.
    const summary = SummaryMessage.safeParse(message.body);
    if (summary.success) {
      await consumeSummaryStep(env, db, message, summary.data);
      continue;
    }
    const parsed = IngestMessage.safeParse(message.body);
    if (!parsed.success) {
      console.error(JSON.stringify({ queue: batch.queue, messageId: message.id, error: "invalid message", issues: parsed.error.issues }));
      await deadLetter(env, message);
      continue;
    }
    const msg = parsed.data;
    try {
      await processMessage(deps, msg);
      if (faults) await inject("crashAfterCommit");
      // The job's last batch hands the project's upload claim on (tree-order.ts); a retry does it again.
      await jobEnded({ ...ingestDeps(env), db }, msg.jobId);
      message.ack();
    } catch (e) {
      const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      console.error(JSON.stringify({ queue: batch.queue, jobId: msg.jobId, seq: msg.seq, attempt: message.attempts, error }));
      await recordAttemptError(db, msg.jobId, msg.seq, error).catch(() => undefined);
      if (e instanceof PermanentError) await deadLetter(env, message);
      else message.retry({ delaySeconds: retryDelayFor(e, message.attempts) });
    }
  }
}

async function consumeDeletionStep(env: Env, db: ReturnType<typeof openDb>, message: Message<unknown>, msg: DeleteProjectMessage): Promise<void> {
  const deps = { d1: env.DB, bucket: env.CHUNKS, queue: env.INGEST_QUEUE, projectIndex: env.PROJECT_INDEX, sessions: env.SESSION };
  try {
    await runDeletionStep(deps, msg);
    message.ack();
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    console.error(JSON.stringify({ queue: "delete-project", jobId: msg.jobId, seq: msg.seq, phase: msg.phase, attempt: message.attempts, error }));
    await recordAttemptError(db, msg.jobId, msg.seq, error).catch(() => undefined);
    if (e instanceof PermanentError) await deadLetter(env, message);
    else message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

function summaryDeps(env: Env, db: ReturnType<typeof openDb>): SummaryDeps {
  const modelName = smallModel(env);
  return {
    db,
    shards: env.PROJECT_INDEX,
    send: async (msg, delaySeconds) => void (await env.INGEST_QUEUE.send(msg, delaySeconds > 0 ? { delaySeconds } : {})),
    model: env.ANTHROPIC_API_KEY
      ? (orgId) =>
          smallModelClient({
            apiKey: env.ANTHROPIC_API_KEY,
            baseURL: env.ANTHROPIC_BASE_URL,
            model: modelName,
            gate: orgGate(env.ORG_MODEL_GATE, orgId, orgConcurrency(env.ORG_MODEL_CONCURRENCY)),
            maxRetries: 2,
          })
      : undefined,
    modelName,
    deploymentDefault: summariesDefault(env),
    dirDelaySeconds: summaryDirDelay(env.SUMMARY_DIR_DELAY_S),
  };
}

// The directory pass waits this long for a project's file summaries to go quiet, so a long ingestion summarises its directories once.
const SUMMARY_DIR_DELAY_S = 30;
const summaryDirDelay = (raw: string | undefined): number => {
  const n = Number(raw);
  return raw !== undefined && Number.isFinite(n) && n >= 0 ? n : SUMMARY_DIR_DELAY_S;
};

/** A summary step: retried with backoff on failure; after the retries the dead-letter consumer records its files as failed. */
async function consumeSummaryStep(env: Env, db: ReturnType<typeof openDb>, message: Message<unknown>, msg: SummaryMessage): Promise<void> {
  try {
    const deps = summaryDeps(env, db);
    if (msg.kind === "summarize") await summarizeFiles(deps, msg);
    else await summarizeDirectories(deps, msg);
    message.ack();
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    console.error(JSON.stringify({ queue: "summaries", projectId: msg.projectId, kind: msg.kind, attempt: message.attempts, error }));
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

/** Forwards a message to the DLQ explicitly (for errors no retry can fix) and acknowledges it. */
async function deadLetter(env: Env, message: Message<unknown>): Promise<void> {
  await env.INGEST_DLQ.send(message.body);
  message.ack();
}

export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = openDb(env.DB);
  for (const message of batch.messages) {
    // A summary step out of retries ends its files' wait for a summary (recorded as failed), never its job's batch.
    const summary = SummaryMessage.safeParse(message.body);
    if (summary.success) {
      if (summary.data.kind === "summarize")
        await summariesDeadLettered({ shards: env.PROJECT_INDEX }, summary.data).catch((e: unknown) => console.error(String(e)));
      else console.error(JSON.stringify({ queue: batch.queue, projectId: summary.data.projectId, error: "directory summaries dead-lettered" }));
      message.ack();
      continue;
    }
    const ref = JobRef.safeParse(message.body);
    if (ref.success) {
      await markBatchFailed(db, ref.data.jobId, ref.data.seq, "dead-lettered after its retries ran out");
      await jobEnded({ ...ingestDeps(env), db }, ref.data.jobId);
    } else console.error(JSON.stringify({ queue: batch.queue, messageId: message.id, error: "unrecognised dead letter", body: message.body }));
    message.ack();
  }
}
