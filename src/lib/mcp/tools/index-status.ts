/**
 * index_status: the caller's projects (or one) as GET /api/projects lists them — files, tokens, last job,
 * freshness — and, for one project, its last job's progress (GET /api/jobs/:id) and last pushed commit.
 */
import { z } from "zod";
import { readJob } from "../../ingest";
import { listProjects, MAX_PROJECTS_PAGE, type ProjectListItem } from "../../projects/list-projects";
import { getProject } from "../../projects/projects";
import type { ToolDef } from "../types";

const Input = z.object({
  projectId: z.string().min(1).max(64).optional().describe("One project; without it, every project the key may read."),
  cursor: z.string().max(512).optional().describe("`nextCursor` of the previous answer, for the next page of projects."),
});

const Progress = z.object({
  status: z.string(),
  files: z.object({ total: z.number(), done: z.number(), skipped: z.number() }),
  batches: z.object({ total: z.number(), done: z.number(), failed: z.number() }),
  chunksWritten: z.number(),
  errors: z.number(),
});

const Project = z.object({
  projectId: z.string(),
  name: z.string(),
  files: z.number(),
  tokens: z.number(),
  repository: z.string().nullable(),
  lastJob: z.object({ jobId: z.string(), source: z.string(), status: z.string(), createdAt: z.string(), finishedAt: z.string().nullable() }).nullable(),
  progress: Progress.nullable().describe("The last job's progress (one project only)."),
  freshness: z.object({ basis: z.string(), at: z.string(), commit: z.string().nullable() }).nullable(),
});

const Output = z.object({ projects: z.array(Project), nextCursor: z.string().nullable() });

type Status = z.infer<typeof Project>;

function statusOf(p: ProjectListItem, commit: string | null, progress: Status["progress"]): Status {
  return {
    projectId: p.projectId,
    name: p.name,
    files: p.files,
    tokens: p.tokens,
    repository: p.repository?.fullName ?? null,
    lastJob: p.lastJob,
    progress,
    freshness: p.freshness ? { ...p.freshness, commit } : null,
  };
}

const line = (s: Status) =>
  `${s.projectId} "${s.name}": ${s.files} files, ${s.tokens} tokens; last job ${s.lastJob ? `${s.lastJob.status} (${s.lastJob.source}, ${s.lastJob.createdAt})` : "none"}` +
  `; fresh as of ${s.freshness ? `${s.freshness.basis} ${s.freshness.at}${s.freshness.commit ? ` at ${s.freshness.commit}` : ""}` : "never"}` +
  (s.progress ? `; progress ${s.progress.files.done}/${s.progress.files.total} files, ${s.progress.batches.done}/${s.progress.batches.total} batches` : "");

export const indexStatusTool: ToolDef<typeof Input, typeof Output> = {
  name: "index_status",
  title: "Index status",
  description:
    "Projects the key may read with their files, tokens, last ingestion job and how fresh the index is; with projectId, that project and its last job's progress.",
  scope: "read",
  readOnly: true,
  input: Input,
  output: Output,
  async run(deps, args) {
    if (args.projectId === undefined) {
      const page = await listProjects(deps.env.DB, deps.key, { limit: MAX_PROJECTS_PAGE, cursor: args.cursor });
      const projects = page.projects.map((p) => statusOf(p, null, null));
      const text = projects.length ? projects.map(line).join("\n") : "no projects";
      return { structured: { projects, nextCursor: page.nextCursor }, text: `${text}${page.nextCursor ? `\n[more: cursor ${page.nextCursor}]` : ""}` };
    }
    const project = await getProject(deps.db, args.projectId, deps.key);
    const [item] = (await listProjects(deps.env.DB, { orgId: deps.key.orgId, projectIds: [project.projectId] }, { limit: 1 })).projects;
    if (!item) throw new Error(`project ${project.projectId} was read but not listed`);
    const job = item.lastJob ? await readJob(deps.db, item.lastJob.jobId, deps.key.orgId) : undefined;
    const progress = job
      ? {
          status: job.status,
          files: { total: job.files.total, done: job.files.done, skipped: job.files.skipped },
          batches: job.batches,
          chunksWritten: job.chunksWritten,
          errors: job.errors.length,
        }
      : null;
    const status = statusOf(item, project.pushedCommit, progress);
    return { structured: { projects: [status], nextCursor: null }, text: line(status) };
  },
};
