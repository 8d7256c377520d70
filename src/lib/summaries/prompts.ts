/** What a summary call sends and how its answer is checked: the model's text is external input. */
import { z } from "zod";

// A file up to this many tokens is summarised from its text in one call; a larger one chunk by chunk,
// then from its chunks' summaries (the spec's chunk summaries rolled up into the file's).
export const LARGE_FILE_TOKENS = 6000;
// Text sent per call is cut here (~6k tokens), so one call's cost is bounded whatever the file.
export const INPUT_CHARS = 24_000;
// A large file's chunks summarised at most; the rest of a huge file is left to its extractive summary.
export const MAX_CHUNKS_PER_FILE = 16;
// Answer room: a few sentences.
export const SUMMARY_MAX_TOKENS = 300;

export const FILE_SYSTEM =
  "You summarise one source file for a code search index. In 2-4 plain sentences say what the file is for, its main definitions (exact names) and what it works with. No preamble, no Markdown, no speculation.";
export const CHUNK_SYSTEM =
  "You summarise one part of a large source file for a code search index. In 1-3 plain sentences say what this part defines or does, naming its functions, classes and constants exactly. No preamble, no Markdown.";
export const ROLLUP_SYSTEM =
  "You are given summaries of the parts of one large source file, in order. Write the file's summary for a code search index: 2-4 plain sentences on what the file is for and its main definitions (exact names). No preamble, no Markdown.";
export const DIR_SYSTEM =
  "You summarise one directory of a codebase for a code search index, from its files' summaries. In 2-4 plain sentences say what the directory holds and what its main files do, naming them. No preamble, no Markdown.";

/** A summary as stored: one paragraph, non-empty, at most 2,000 characters. */
export const SummaryAnswer = z
  .string()
  .transform((s) =>
    s
      .replace(/^\s*(summary|here is (a|the) summary[^:]*)\s*:\s*/i, "")
      .replace(/\s+/g, " ")
      .trim(),
  )
  .pipe(z.string().min(1, "the model answered nothing").max(2000, "the model's summary is over 2,000 characters"));

export const clipInput = (text: string): string => (text.length <= INPUT_CHARS ? text : `${text.slice(0, INPUT_CHARS)}\n[… cut]`);
