/**
 * The queue's summary steps. Files: each text file a batch indexed gets a model-written summary unless
 * the project's cache already holds one for its content (then nothing is sent); a large file is summarised
 * chunk by chunk, then from its chunks' summaries. Directories: once the files have gone quiet, each
 * directory whose listing changed is summarised from its files' summaries. Every call is metered as
 * `summary` usage at once; the project's monthly budget and the org's spend quota stop the work, and the
 * files left are recorded as such. A call the API could not serve fails the message, which the queue
 * retries (finished files are cached, so a retry pays only for the rest) and finally dead-letters, when
 * the files left are recorded as failed.
 */
import { sha256Hex } from "../crypto/hash";
import { AppError } from "../errors";
import type { IndexShard } from "../index-store/types";
import { modelError } from "../model/anthropic-adapter";
import type { SmallModel } from "../model/small-model";
import type { Db } from "../storage";
import { checkQuota, recordUsage } from "../usage";
import type { SummarizeDirsMessage, SummarizeFilesMessage, SummaryMessage } from "./messages";
import {
  CHUNK_SYSTEM,
  clipInput,
  DIR_SYSTEM,
  FILE_SYSTEM,
  LARGE_FILE_TOKENS,
  MAX_CHUNKS_PER_FILE,
  ROLLUP_SYSTEM,
  SUMMARY_MAX_TOKENS,
  SummaryAnswer,
} from "./prompts";
import { type SummaryPolicy, summaryPolicy, summarySpentUsd } from "./settings";

export type SummaryModel = SmallModel;

export type SummaryShard = Pick<
  IndexShard,
  "summaryWork" | "summaryInput" | "cachedSummary" | "storeModelSummary" | "recordSummaryStatus" | "dirSummaryWork" | "storeDirSummary" | "summariesQuietMs"
>;

export type SummaryDeps = {
  db: Db;
  shards: { getByName(projectId: string): SummaryShard };
  /** Sends a follow-up message (the rest of a batch's files, the directory pass) after `delaySeconds`. */
  send(msg: SummaryMessage, delaySeconds: number): Promise<void>;
  /** The small model; undefined when no key is configured (nothing is done, nothing recorded). */
  model: ((orgId: string) => SummaryModel) | undefined;
  modelName: string;
  deploymentDefault: boolean;
  /** Seconds the directory pass waits for a project's file summaries to go quiet. */
  dirDelaySeconds: number;
  now?: () => number;
};

// Directories summarised per message; a larger project's pass goes on in further messages.
const DIRS_PER_MESSAGE = 40;
// Model calls one message makes at most (each with a few D1 and shard calls around it), so an invocation
// stays far under the Workers subrequest limit (1,000) whatever its files; the rest goes on in a new message.
export const MAX_CALLS_PER_MESSAGE = 60;
// The org's spend quota is read again after this many calls (the project's budget is checked before every call).
const QUOTA_CHECK_EVERY = 20;

/** A per-message meter: what was spent so far this month, and whether the budget or the org's quota stops the next call. */
class Spend {
  /** Calls made by this message. */
  calls = 0;
  private quotaStop: string | undefined;
  private quotaReadAt = -1;

  constructor(
    private spent: number,
    private readonly policy: Extract<SummaryPolicy, { enabled: true }>,
    private readonly deps: SummaryDeps,
    private readonly projectId: string,
  ) {}

  static async open(deps: SummaryDeps, projectId: string, policy: Extract<SummaryPolicy, { enabled: true }>): Promise<Spend> {
    return new Spend(await summarySpentUsd(deps.db, policy.orgId, projectId, (deps.now ?? Date.now)()), policy, deps, projectId);
  }

  /** Why no further call may be made, or undefined. */
  async stop(): Promise<string | undefined> {
    if (this.spent >= this.policy.budgetUsd)
      return `the project's summary budget is used up: ${this.spent.toFixed(4)} of ${this.policy.budgetUsd} USD this month (org setting summaryBudgetUsd)`;
    if (this.quotaReadAt < 0 || this.calls - this.quotaReadAt >= QUOTA_CHECK_EVERY) {
      this.quotaReadAt = this.calls;
      try {
        await checkQuota(this.deps.db, this.policy.orgId, "spend", { projectId: this.projectId });
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        this.quotaStop = e.message;
      }
    }
    return this.quotaStop;
  }

  /** One call, metered as soon as it returns; its answer checked. */
  async call(model: SummaryModel, system: string, user: string): Promise<{ text: string; costUsd: number }> {
    const r = await model.complete(system, user, SUMMARY_MAX_TOKENS);
    this.calls++;
    this.spent += r.costUsd;
    await recordUsage(this.deps.db, {
      orgId: this.policy.orgId,
      projectId: this.projectId,
      model: model.model,
      kind: "summary",
      costUsd: r.costUsd,
      requests: 1,
    });
    const parsed = SummaryAnswer.safeParse(r.text);
    if (!parsed.success) throw new AppError(502, "model_error", `the summary answer was refused: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    return { text: parsed.data, costUsd: r.costUsd };
  }
}

/** A failure worth a retry of the whole message: the API unavailable after its own retries, the org's gate busy. */
function isRetryable(e: unknown): boolean {
  return e instanceof AppError ? e.status === 429 || e.status === 503 : true;
}

async function enabledPolicy(deps: SummaryDeps, projectId: string): Promise<SummaryPolicy> {
  if (!deps.model) return { enabled: false, reason: "no model key is configured", record: false };
  return summaryPolicy(deps.db, projectId, deps.modelName, deps.deploymentDefault);
}

export async function summarizeFiles(deps: SummaryDeps, msg: SummarizeFilesMessage): Promise<void> {
  const policy = await enabledPolicy(deps, msg.projectId);
  const shard = deps.shards.getByName(msg.projectId);
  const work = policy.enabled || policy.record ? await shard.summaryWork(msg.paths) : [];
  if (!policy.enabled) {
    if (policy.record && work.length) await shard.recordSummaryStatus(work, "skipped", policy.reason);
    return;
  }
  const model = (deps.model as (orgId: string) => SummaryModel)(policy.orgId);
  const spend = await Spend.open(deps, msg.projectId, policy);
  for (const [i, f] of work.entries()) {
    if (spend.calls >= MAX_CALLS_PER_MESSAGE) {
      await deps.send({ ...msg, paths: work.slice(i).map((w) => w.path) }, 0);
      return;
    }
    const stop = await spend.stop();
    if (stop) {
      await shard.recordSummaryStatus(work.slice(i), "budget", stop);
      break;
    }
    const chunks = await shard.summaryInput(f.path, f.sha256);
    // Changed since (a newer batch re-indexed it and sent its own message) or removed.
    if (chunks === undefined) continue;
    try {
      const content = await summarizeOne(shard, spend, model, f.path, chunks, f.tokensCl);
      await shard.storeModelSummary({ level: "file", sha256: f.sha256, content: content.text, model: model.model, costUsd: content.costUsd }, { path: f.path });
    } catch (e) {
      const err = modelError(e);
      if (isRetryable(err)) throw err;
      await shard.recordSummaryStatus([f], "failed", err instanceof Error ? err.message : String(err));
    }
  }
  await shard.summariesQuietMs(true);
  await deps.send({ kind: "summarize-dirs", projectId: msg.projectId, continued: false }, deps.dirDelaySeconds);
}

/** A file's summary: from its text, or for a large file from its chunks' summaries (each cached by its text's hash). */
async function summarizeOne(
  shard: SummaryShard,
  spend: Spend,
  model: SummaryModel,
  path: string,
  chunks: string[],
  tokensCl: number,
): Promise<{ text: string; costUsd: number }> {
  if (tokensCl <= LARGE_FILE_TOKENS || chunks.length === 1) return spend.call(model, FILE_SYSTEM, `File: ${path}\n\n${clipInput(chunks.join(""))}`);
  const parts: string[] = [];
  let cost = 0;
  for (const [i, text] of chunks.slice(0, MAX_CHUNKS_PER_FILE).entries()) {
    const sha = await sha256Hex(text);
    let summary = await shard.cachedSummary("chunk", sha);
    if (summary === undefined) {
      const r = await spend.call(model, CHUNK_SYSTEM, `File: ${path} (part ${i + 1} of ${chunks.length})\n\n${clipInput(text)}`);
      await shard.storeModelSummary({ level: "chunk", sha256: sha, content: r.text, model: model.model, costUsd: r.costUsd }, undefined);
      summary = r.text;
      cost += r.costUsd;
    }
    parts.push(`Part ${i + 1}: ${summary}`);
  }
  if (chunks.length > MAX_CHUNKS_PER_FILE) parts.push(`(${chunks.length - MAX_CHUNKS_PER_FILE} further parts not summarised)`);
  const rolled = await spend.call(model, ROLLUP_SYSTEM, `File: ${path}\n\n${clipInput(parts.join("\n"))}`);
  return { text: rolled.text, costUsd: cost + rolled.costUsd };
}

/** The directory pass: waits until the project's file summaries have been quiet for the delay, then summarises changed directories. */
export async function summarizeDirectories(deps: SummaryDeps, msg: SummarizeDirsMessage): Promise<void> {
  const policy = await enabledPolicy(deps, msg.projectId);
  if (!policy.enabled) return;
  const shard = deps.shards.getByName(msg.projectId);
  // A file message after this one's was sent has sent its own pass: this one gives way (a debounce).
  if (!msg.continued && (await shard.summariesQuietMs(false)) < deps.dirDelaySeconds * 1000 - 500) return;
  const { work, more } = await shard.dirSummaryWork(DIRS_PER_MESSAGE);
  const model = (deps.model as (orgId: string) => SummaryModel)(policy.orgId);
  const spend = await Spend.open(deps, msg.projectId, policy);
  for (const d of work) {
    // Directories are not files: a stopped pass leaves their extractive summaries in place, and the next ingestion tries again.
    if (await spend.stop()) return;
    try {
      const r = await spend.call(model, DIR_SYSTEM, d.input);
      await shard.storeDirSummary(d.path, { level: "directory", sha256: d.inputSha, content: r.text, model: model.model, costUsd: r.costUsd });
    } catch (e) {
      const err = modelError(e);
      if (isRetryable(err)) throw err;
      console.error(JSON.stringify({ summaries: "directory", projectId: msg.projectId, path: d.path, error: String(err) }));
    }
  }
  if (more) await deps.send({ kind: "summarize-dirs", projectId: msg.projectId, continued: true }, 0);
}

/** A summarize message that ran out of retries: its files still lacking a summary are recorded as failed. */
export async function summariesDeadLettered(deps: Pick<SummaryDeps, "shards">, msg: SummarizeFilesMessage): Promise<void> {
  const shard = deps.shards.getByName(msg.projectId);
  const left = await shard.summaryWork(msg.paths);
  if (left.length) await shard.recordSummaryStatus(left, "failed", "the model API failed on every retry of this batch; the extractive summary stays");
}
