/** The baseline every eval compares with: BM25 (k1 1.2, b 0.75) over whole files, packed greedily in rank order. */
import { safetyMargin } from "../../src/lib/assembly/assemble";
import { queryTerms, termsOf } from "../../src/lib/retrieval/terms";
import { fileTokens, type TreeFile } from "./repo-tree";

type Doc = { f: TreeFile; tf: Map<string, number>; len: number };

export class Bm25Files {
  private readonly docs: Doc[];
  private readonly avg: number;
  private readonly df = new Map<string, number>();

  constructor(files: TreeFile[]) {
    this.docs = files.map((f) => {
      const tf = new Map<string, number>();
      const terms = termsOf(`${f.path.replace(/[/.\\-]/g, " ")}\n${f.text}`);
      for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
      return { f, tf, len: terms.length };
    });
    for (const d of this.docs) for (const t of d.tf.keys()) this.df.set(t, (this.df.get(t) ?? 0) + 1);
    this.avg = this.docs.reduce((n, d) => n + d.len, 0) / Math.max(1, this.docs.length);
  }

  /** Files matching the prompt's terms, best first. */
  rank(prompt: string, maxTerms = 48): TreeFile[] {
    const q = queryTerms(prompt, maxTerms);
    const n = this.docs.length;
    return this.docs
      .map((d) => {
        let s = 0;
        for (const t of q) {
          const k = d.tf.get(t) ?? 0;
          if (k === 0) continue;
          const df = this.df.get(t) ?? 0;
          const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
          s += (idf * k * 2.2) / (k + 1.2 * (0.25 + (0.75 * d.len) / this.avg));
        }
        return { f: d.f, s };
      })
      .filter((d) => d.s > 0)
      .sort((a, b) => b.s - a.s)
      .map((d) => d.f);
  }

  /** The paths of ranked files that fit the budget whole (each with its source line), in rank order. */
  static pack(ranked: TreeFile[], budget: number): Set<string> {
    const limit = budget - safetyMargin(budget);
    let used = 0;
    const out = new Set<string>();
    for (const f of ranked) {
      const cost = fileTokens(f) + 20;
      if (used + cost > limit) continue;
      used += cost;
      out.add(f.path);
    }
    return out;
  }
}
