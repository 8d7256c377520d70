/**
 * Embeddings behind one interface. Production: Workers AI `@cf/baai/bge-m3` (1024 dimensions, 8k-token
 * inputs; longer texts are embedded in windows and mean-pooled so nothing is silently truncated).
 * Embedded: a deterministic hashing embedder over code-aware terms, used when the AI binding is absent and,
 * in production, for orgs in compliance mode (the shard chooses: src/lib/index-store/embeddings.ts).
 */
import { termsOf } from "./terms";

export interface Embedder {
  readonly id: string;
  readonly dims: number;
  embed(texts: string[]): Promise<Float32Array[]>;
}

/**
 * Signed feature hashing of terms and adjacent-term pairs, sublinear term frequency, L2-normalised.
 * Real code, no model: similar vocabularies give similar vectors, deterministically.
 */
export class HashingEmbedder implements Embedder {
  readonly id = "hashing-v1";
  constructor(readonly dims = 384) {}

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): Float32Array {
    const counts = new Map<string, number>();
    const terms = termsOf(text);
    for (let i = 0; i < terms.length; i++) {
      const t = terms[i] as string;
      counts.set(t, (counts.get(t) ?? 0) + 1);
      if (i > 0) {
        const pair = `${terms[i - 1]} ${t}`;
        counts.set(pair, (counts.get(pair) ?? 0) + 0.5);
      }
    }
    const v = new Float32Array(this.dims);
    for (const [term, n] of counts) {
      const h = fnv1a(term);
      const sign = (h & 0x80000000) !== 0 ? -1 : 1;
      const idx = h % this.dims;
      v[idx] = (v[idx] as number) + sign * (1 + Math.log(n));
    }
    return normalize(v);
  }
}

/** Workers AI embeddings; windows of at most `maxChars` characters are pooled per text. */
export class WorkersAiEmbedder implements Embedder {
  readonly id: string;
  readonly dims = 1024;
  constructor(
    private readonly ai: Ai,
    private readonly model = "@cf/baai/bge-m3",
    // ~6k tokens of code per window: under bge-m3's 8,192-token input with room for its tokenizer.
    private readonly maxChars = 18_000,
  ) {
    this.id = `workers-ai:${model}`;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const windows: { owner: number; text: string }[] = [];
    texts.forEach((t, owner) => {
      for (let i = 0; i < Math.max(1, t.length); i += this.maxChars) windows.push({ owner, text: t.slice(i, i + this.maxChars) });
    });
    const pooled = texts.map(() => new Float32Array(this.dims));
    // Workers AI takes up to 100 inputs per embedding call.
    for (let i = 0; i < windows.length; i += 100) {
      const part = windows.slice(i, i + 100);
      const res = (await this.ai.run(this.model as keyof AiModels, { text: part.map((w) => w.text) } as never)) as unknown as { data: number[][] };
      part.forEach((w, j) => {
        const v = res.data[j] ?? [];
        const acc = pooled[w.owner] as Float32Array;
        for (let k = 0; k < this.dims; k++) acc[k] = (acc[k] as number) + (v[k] ?? 0);
      });
    }
    return pooled.map(normalize);
  }
}

export function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) / n;
  return v;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
