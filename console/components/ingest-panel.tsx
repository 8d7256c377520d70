/**
 * Ingest by choosing or dropping an archive (sent as it is) or a folder (packed as a tar here), with the
 * upload's bytes and then the job's files and chunks updating live (GET /api/jobs/:id, polled).
 */
import { useRef, useState } from "preact/hooks";
import type { ArchiveFormat, Job, WinkyClient } from "../../src/client";
import { bytes, tokens } from "../lib/format";
import { type FolderFile, filesOfEntry, filesOfInput, packTar } from "../lib/tar";
import { ErrorBox } from "./error-box";

// Archives above this go as a multipart upload, which reports progress part by part; below it, one request.
const CONSOLE_MULTIPART_THRESHOLD = 16 * 1024 * 1024;
const POLL_MS = 500;

type Stage = { kind: "idle" } | { kind: "packing"; files: number } | { kind: "uploading"; sent: number; total: number } | { kind: "indexing"; job: Job };

function formatOf(name: string): ArchiveFormat | undefined {
  if (/\.(tar\.gz|tgz)$/i.test(name)) return "tar.gz";
  if (/\.tar$/i.test(name)) return "tar";
  if (/\.zip$/i.test(name)) return "zip";
  return undefined;
}

export function IngestPanel({ client, projectId, onDone }: { client: WinkyClient; projectId: string; onDone: () => void }) {
  const [stage, setStage] = useState<Stage>({ kind: "idle" });
  const [error, setError] = useState<unknown>(undefined);
  const [over, setOver] = useState(false);
  const folderInput = useRef<HTMLInputElement>(null);

  const send = async (archive: Blob, format: ArchiveFormat) => {
    setError(undefined);
    try {
      setStage({ kind: "uploading", sent: 0, total: archive.size });
      const { jobId } = await client.uploads.upload(projectId, archive, {
        format,
        stream: false,
        threshold: CONSOLE_MULTIPART_THRESHOLD,
        onProgress: (sent, total) => setStage({ kind: "uploading", sent, total }),
      });
      const job = await client.jobs.wait(jobId, { intervalMs: POLL_MS, onProgress: (j) => setStage({ kind: "indexing", job: j }) });
      setStage({ kind: "indexing", job });
      onDone();
    } catch (e) {
      setError(e);
      setStage({ kind: "idle" });
    }
  };
  const sendFolder = async (files: FolderFile[]) => {
    if (files.length === 0) return setError(new Error("the folder holds no files to ingest"));
    setStage({ kind: "packing", files: files.length });
    await send(packTar(files), "tar");
  };
  const sendArchive = async (file: File) => {
    const format = formatOf(file.name);
    if (!format) return setError(new Error(`${file.name} is not a .zip, .tar, .tar.gz or .tgz archive; drop a folder to send loose files`));
    await send(file, format);
  };
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const item = e.dataTransfer?.items[0];
    const entry = item?.webkitGetAsEntry();
    if (entry?.isDirectory) return sendFolder(await filesOfEntry(entry as FileSystemDirectoryEntry));
    const file = e.dataTransfer?.files[0];
    if (file) await sendArchive(file);
  };
  const busy = stage.kind === "packing" || stage.kind === "uploading" || (stage.kind === "indexing" && !isFinished(stage.job));

  return (
    <section class="card stack" aria-labelledby="ingest-h">
      <h2 id="ingest-h" style={{ margin: 0 }}>
        Ingest
      </h2>
      {/* A drop zone: the same actions are reachable by keyboard through the two pickers inside it. */}
      <section
        aria-label="drop a folder or an archive"
        class={`drop${over ? " over" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <p style={{ marginTop: 0 }}>Drop a folder or an archive (.zip, .tar, .tar.gz) here, or choose one:</p>
        <div class="row" style={{ justifyContent: "center" }}>
          <label>
            Archive
            <input
              name="archive"
              type="file"
              accept=".zip,.tar,.tgz,.gz"
              disabled={busy}
              onChange={(e) => {
                const f = e.currentTarget.files?.[0];
                if (f) void sendArchive(f);
                e.currentTarget.value = "";
              }}
            />
          </label>
          <button type="button" disabled={busy} onClick={() => folderInput.current?.click()}>
            Choose a folder…
          </button>
          <input
            ref={(el) => {
              folderInput.current = el;
              el?.setAttribute("webkitdirectory", "");
            }}
            type="file"
            hidden
            multiple
            onChange={(e) => {
              const list = e.currentTarget.files;
              if (list) void sendFolder(filesOfInput(list));
              e.currentTarget.value = "";
            }}
          />
        </div>
      </section>
      <div class="status-line" aria-live="polite" data-testid="ingest-status">
        <Progress stage={stage} />
      </div>
      {error ? <ErrorBox error={error} /> : null}
    </section>
  );
}

const isFinished = (job: Job): boolean => job.status === "done" || job.status === "failed";

function Progress({ stage }: { stage: Stage }) {
  switch (stage.kind) {
    case "idle":
      return <span class="muted">Nothing uploading.</span>;
    case "packing":
      return <span>Packing {stage.files} files…</span>;
    case "uploading":
      return (
        <div class="stack">
          <span>
            Uploading {bytes(stage.sent)} of {bytes(stage.total)}
          </span>
          <progress max={stage.total || 1} value={stage.sent} />
        </div>
      );
    case "indexing": {
      const { job } = stage;
      const f = job.files;
      const handled = f.done + f.skipped + f.unchanged + f.ignored;
      return (
        <div class="stack" data-job-status={job.status}>
          <span>
            Indexing: <span class={`badge ${job.status === "done" ? "ok" : job.status === "failed" ? "bad" : ""}`}>{job.status}</span> {handled} of {f.total}{" "}
            files, {tokens(job.chunksWritten)} of {tokens(job.chunks)} chunks, {tokens(job.tokens)} tokens
            {job.outcomes.decoded ? `, ${job.outcomes.decoded} decoded` : ""}
            {job.outcomes.binary ? `, ${job.outcomes.binary} binary` : ""}
            {f.skipped ? `, ${f.skipped} skipped` : ""}
          </span>
          <progress max={f.total || 1} value={handled} />
          {job.errors.length ? (
            <ul>
              {job.errors.map((e) => (
                <li key={`${e.path}:${e.message}`} class="muted">
                  {e.path ? <code>{e.path}</code> : null} {e.message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      );
    }
  }
}
