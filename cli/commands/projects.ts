/** winky projects [list | create <name> | delete <id>] */
import type { Ctx } from "../context";
import { required } from "../context";
import { UsageError } from "../exit-codes";
import { fmt, table } from "../output";

export async function projects(ctx: Ctx): Promise<void> {
  const [action = "list", arg] = ctx.args;
  const client = ctx.client();
  if (action === "list") {
    const all = await client.projects.listAll();
    ctx.out.result({ projects: all }, () =>
      all.length === 0
        ? "no projects"
        : table([
            ["ID", "NAME", "FILES", "TOKENS", "LAST JOB"],
            ...all.map((p) => [p.projectId, p.name, fmt(p.files), fmt(p.tokens), p.lastJob ? `${p.lastJob.jobId} ${p.lastJob.status}` : "-"]),
          ]),
    );
  } else if (action === "create") {
    const created = await client.projects.create({ name: required(arg ?? ctx.flags.name, "the project's name: winky projects create <name>") });
    ctx.out.result(created, created.projectId);
  } else if (action === "delete") {
    const projectId = required(arg, "the project's id: winky projects delete <id>");
    const deleted = await client.projects.delete(projectId);
    ctx.out.result({ projectId, ...deleted }, `deleting ${projectId} (job ${deleted.jobId})`);
  } else {
    throw new UsageError(`unknown projects action "${action}": list, create <name> or delete <id>`);
  }
}
