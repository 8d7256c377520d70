/** One project: ingest into it, and its files. */
import type { ProjectFile, WinkyClient } from "../../src/client";
import { ErrorBox } from "../components/error-box";
import { FilesTable } from "../components/files-table";
import { IngestPanel } from "../components/ingest-panel";
import { useLoad } from "../components/use-load";
import { tokens } from "../lib/format";
import { href } from "../lib/route";

async function allFiles(client: WinkyClient, projectId: string): Promise<ProjectFile[]> {
  const out: ProjectFile[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.projects.files(projectId, cursor ? { cursor } : {});
    out.push(...page.files);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

export function ProjectPage({ client, projectId }: { client: WinkyClient; projectId: string }) {
  const project = useLoad(() => client.projects.get(projectId), [client, projectId]);
  const files = useLoad(() => allFiles(client, projectId), [client, projectId]);
  const total = files.value?.reduce((n, f) => n + f.tokenCount, 0) ?? 0;
  return (
    <main class="stack">
      <h1>{project.value?.name ?? projectId}</h1>
      {project.error ? <ErrorBox error={project.error} /> : null}
      <nav class="row" aria-label="project">
        <a href={href.inspect(projectId)}>Context inspector</a>
        <a href={href.session(projectId)}>Session</a>
        <a href={href.generations(projectId)}>Generations</a>
        {project.value ? <span class="muted">tokenizer {project.value.tokenizer}</span> : null}
      </nav>
      <IngestPanel client={client} projectId={projectId} onDone={files.reload} />
      <h2>
        Files{" "}
        {files.value ? (
          <span class="muted">
            ({files.value.length}, {tokens(total)} tokens)
          </span>
        ) : null}
      </h2>
      {files.error ? <ErrorBox error={files.error} /> : null}
      {files.value ? <FilesTable projectId={projectId} files={files.value} /> : <p class="muted">Loading files…</p>}
    </main>
  );
}
