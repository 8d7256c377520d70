/**
 * Binding-shaped local stand-ins for Workers AI and Vectorize that compute real results (hashing
 * embeddings at bge-m3's width, exact cosine search with namespaces) and record what they are asked.
 */
import { dot, HashingEmbedder } from "../../src/lib/retrieval/embedder";

/** An `Ai` binding that embeds with the hashing embedder at bge-m3's width, and records its calls. */
export function localAi(): { ai: Ai; calls: string[][] } {
  const inner = new HashingEmbedder(1024);
  const calls: string[][] = [];
  const ai = {
    async run(_model: string, input: { text: string[] }) {
      if (input.text.length > 100) throw new Error("more than 100 inputs in one call");
      calls.push(input.text);
      return { data: (await inner.embed(input.text)).map((v) => Array.from(v)) };
    },
  } as unknown as Ai;
  return { ai, calls };
}

/** A `VectorizeIndex` with exact cosine search and namespaces. */
export function localVectorize(): VectorizeIndex {
  const rows = new Map<string, { values: number[]; namespace?: string }>();
  return {
    async upsert(vectors: VectorizeVector[]) {
      for (const v of vectors) rows.set(v.id, { values: Array.from(v.values as number[]), ...(v.namespace ? { namespace: v.namespace } : {}) });
      return { mutationId: "m" };
    },
    async deleteByIds(ids: string[]) {
      for (const id of ids) rows.delete(id);
      return { mutationId: "m" };
    },
    async query(values: number[], opts: { topK: number; namespace?: string }) {
      const q = Float32Array.from(values);
      const matches = [...rows.entries()]
        .filter(([, r]) => r.namespace === opts.namespace)
        .map(([id, r]) => ({ id, score: dot(q, Float32Array.from(r.values)) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, opts.topK);
      return { matches, count: matches.length };
    },
  } as unknown as VectorizeIndex;
}
