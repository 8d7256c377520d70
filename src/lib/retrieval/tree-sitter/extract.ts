/** Definitions, imports and references of one file from its syntax tree. */
import type { FileSymbol } from "../symbols";
import { type Grammar, language, treeSitter } from "./load";
import { grammarFor, QUERIES } from "./queries";

type Query = InstanceType<Awaited<ReturnType<typeof treeSitter>>["Query"]>;
const queries = new Map<Grammar, Promise<Query>>();

// Beyond this many bytes a file is data or generated code; the line-based fallback is enough.
const MAX_PARSE_BYTES = 512 * 1024;
// References kept per file: the distinct names used, first occurrence each.
const MAX_REFS = 400;

async function queryFor(grammar: Grammar): Promise<Query> {
  let q = queries.get(grammar);
  if (!q) {
    q = (async () => new (await treeSitter()).Query(await language(grammar), QUERIES[grammar]))();
    queries.set(grammar, q);
  }
  return q;
}

/** The file's symbols from tree-sitter, or undefined when no grammar covers it. */
export async function extractWithTreeSitter(path: string, text: string): Promise<FileSymbol[] | undefined> {
  const grammar = grammarFor(path);
  if (!grammar || text.length > MAX_PARSE_BYTES) return undefined;
  const ts = await treeSitter();
  const parser = new ts.Parser();
  try {
    parser.setLanguage(await language(grammar));
    const tree = parser.parse(text);
    if (!tree) return undefined;
    try {
      const lines = text.split("\n");
      const out: FileSymbol[] = [];
      const seenRefs = new Set<string>();
      for (const capture of (await queryFor(grammar)).captures(tree.rootNode)) {
        const kind = capture.name;
        if (kind !== "def" && kind !== "import" && kind !== "ref") continue;
        const node = capture.node;
        const line = node.startPosition.row + 1;
        if (kind === "ref") {
          if (seenRefs.has(node.text) || seenRefs.size >= MAX_REFS) continue;
          seenRefs.add(node.text);
          out.push({ name: node.text, kind: "ref", line, signature: "" });
        } else if (kind === "import") {
          out.push({ name: node.text.replace(/^["'`]|["'`]$/g, ""), kind: "import", line, signature: (lines[line - 1] ?? "").trim().slice(0, 160) });
        } else {
          const declLine = (node.parent?.startPosition.row ?? node.startPosition.row) + 1;
          out.push({ name: node.text, kind: "def", line, signature: (lines[declLine - 1] ?? "").trim().slice(0, 160) });
        }
      }
      return out;
    } finally {
      tree.delete();
    }
  } finally {
    parser.delete();
  }
}
