/** winky status [jobId]: a job's progress, or every project with its files, tokens and last job. */
import type { Ctx } from "../context";
import { fmt, table } from "../output";
import { jobSummary } from "./ingest";

export async function status(ctx: Ctx): Promise<void> {
  const client = ctx.client();
  const [jobId] = ctx.args;
  if (jobId) {
    const job = await client.jobs.get(jobId);
    const handled = job.files.done + job.files.skipped;
    ctx.out.result(job, () =>
      job.status === "done" || job.status === "failed"
        ? `job ${job.jobId} (project ${job.projectId})\n${jobSummary(job)}`
        : `job ${job.jobId} (project ${job.projectId}): ${job.status}, ${fmt(handled)}/${fmt(job.files.total)} files, ${fmt(job.chunks)} chunks, ${fmt(job.tokens)} tokens`,
    );
    return;
  }
  const projects = await client.projects.listAll();
  ctx.out.result({ projects }, () =>
    projects.length === 0
      ? "no projects"
      : table([
          ["ID", "NAME", "FILES", "TOKENS", "LAST JOB", "STATUS", "AT"],
          ...projects.map((p) => [
            p.projectId,
            p.name,
            fmt(p.files),
            fmt(p.tokens),
            p.lastJob?.jobId ?? "-",
            p.lastJob?.status ?? "-",
            p.lastJob?.finishedAt ?? p.lastJob?.createdAt ?? "-",
          ]),
        ]),
  );
}
