/** Fills a project's index shard directly (no queue), for assembly tests over many random projects. */
import { env } from "cloudflare:test";
import { chunkText } from "../../src/lib/chunker";
import { chunkIdFor } from "../../src/lib/ingest";
import { headerComment, summarizeFile, summaryId } from "../../src/lib/retrieval/summaries";
import { extractSymbols } from "../../src/lib/retrieval/symbols";
import type { Tokenizer } from "../../src/lib/tokenizer";

export async function fillShard(projectId: string, files: { path: string; text: string }[], tokenizer: Tokenizer = "claude", changedAt = 1): Promise<void> {
  const indexed = [];
  for (const f of files) {
    const chunks = chunkText(f.text, { tokenizer, maxTokens: 2000, overlapTokens: 128 });
    const symbols = await extractSymbols(f.path, f.text);
    indexed.push({
      path: f.path,
      sha256: `sha-${f.path}`,
      type: "code",
      chunks: await Promise.all(
        chunks.map(async (c, ordinal) => ({
          chunkId: await chunkIdFor(projectId, f.path, ordinal, String(c.charStart)),
          ordinal,
          startLine: c.startLine,
          endLine: c.endLine,
          text: c.text,
        })),
      ),
      symbols,
      summaryId: await summaryId(projectId, "file", f.path),
      summary: summarizeFile(f.path, f.text, symbols),
      head: headerComment(f.path, f.text),
    });
  }
  await env.PROJECT_INDEX.getByName(projectId).indexFiles({ projectId, projectName: projectId, files: indexed, removed: [], changedAt });
}
