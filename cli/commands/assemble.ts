/** winky assemble "<prompt>" --project ID: the assembled context (with its ---source lines) to stdout or --out, its pieces to stderr. */
import { writeFile } from "node:fs/promises";
import { type Ctx, intFlag, required } from "../context";
import { fmt } from "../output";

export async function assemble(ctx: Ctx): Promise<void> {
  const prompt = required(ctx.args.join(" ").trim(), 'the prompt: winky assemble "<prompt>" --project ID');
  const projectId = required(ctx.flags.project, "--project ID");
  const budget = intFlag(ctx.flags.budget, "budget");
  const result = await ctx.client().context.assemble({ projectId, prompt, includeText: true, ...(budget === undefined ? {} : { budget }) });
  const text = result.contextText ?? "";
  const pieces = result.contextPieces.map(
    (p) => `  ${p.sourcePath}:${p.startLine}-${p.endLine}  ${fmt(p.tokenCount)} tokens  ${p.kind}  [${p.reasons.join(", ")}]`,
  );
  ctx.out.note(`${fmt(result.contextPieces.length)} pieces, ${fmt(result.tokenTotal)} / ${fmt(result.tokenBudget)} tokens\n${pieces.join("\n")}`);
  if (ctx.flags.out) {
    await writeFile(ctx.flags.out, text);
    ctx.out.result({ ...result, contextText: undefined, out: ctx.flags.out }, "");
    ctx.out.note(`wrote ${ctx.flags.out}`);
  } else {
    ctx.out.result(result, text);
  }
}
