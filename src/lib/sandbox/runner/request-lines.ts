/** A run request as a checked sequence of `RunLine`s, whether it came as one JSON body or streamed as NDJSON. */
import type { IncomingMessage } from "node:http";
import { LineBuffer } from "../../streams/line-buffer";
import { inlineBatches } from "../workspace";
import { RunLine, RunRequest } from "./protocol";

// Largest single JSON body (a small run sent whole) and largest NDJSON line (one batch of files).
const MAX_BODY = 256 * 1024 * 1024;
const MAX_LINE = 64 * 1024 * 1024;

/** A request the runner refuses before running anything, with the envelope's code and issues. */
export class RequestInvalid extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
  }
}

/** The request's lines, each validated; the first is the `run` header and the last `end`. */
export async function* requestLines(req: IncomingMessage): AsyncGenerator<RunLine> {
  if ((req.headers["content-type"] ?? "").includes("application/x-ndjson")) yield* streamedLines(req);
  else yield* wholeBody(req);
}

async function* wholeBody(req: IncomingMessage): AsyncGenerator<RunLine> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new RequestInvalid(413, "request_too_large", `run requests are limited to ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new RequestInvalid(400, "invalid_json", "the run request is not valid JSON");
  }
  const parsed = RunRequest.safeParse(body);
  if (!parsed.success) throw invalid(parsed.error.issues);
  const { files, links, commands, install, limits } = parsed.data;
  yield { type: "run", commands, install, limits };
  for await (const batch of inlineBatches(files, links ?? [])) {
    if (batch.files.length > 0) yield { type: "files", files: batch.files };
    if (batch.links.length > 0) yield { type: "links", links: batch.links };
  }
  yield { type: "end", files: files.length };
}

async function* streamedLines(req: IncomingMessage): AsyncGenerator<RunLine> {
  const lines = new LineBuffer();
  let n = 0;
  let ended = false;
  const parse = (text: string): RunLine => {
    n++;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new RequestInvalid(400, "invalid_json", `line ${n} of the run request is not valid JSON`);
    }
    const parsed = RunLine.safeParse(json);
    if (!parsed.success) throw invalid(parsed.error.issues, `line ${n}`);
    if ((n === 1) !== (parsed.data.type === "run")) throw new RequestInvalid(400, "invalid_request", "a streamed run request starts with its one `run` line");
    if (ended) throw new RequestInvalid(400, "invalid_request", "nothing may follow the `end` line");
    if (parsed.data.type === "end") ended = true;
    return parsed.data;
  };
  req.setEncoding("utf8");
  for await (const chunk of req) {
    for (const line of lines.push(chunk as string)) yield parse(line);
    if (lines.pending > MAX_LINE) throw new RequestInvalid(413, "request_too_large", `a run request line is limited to ${MAX_LINE} bytes`);
  }
  for (const line of lines.end()) yield parse(line);
  if (!ended) throw new RequestInvalid(400, "invalid_request", "the run request ended before its `end` line");
}

function invalid(issues: { path: PropertyKey[]; message: string }[], at?: string): RequestInvalid {
  return new RequestInvalid(
    400,
    "invalid_request",
    at ? `${at} of the run request is not valid` : "the run request is not valid",
    issues.map((i) => ({ path: [...(at ? [at] : []), ...i.path.map(String)].join("."), message: i.message })),
  );
}
