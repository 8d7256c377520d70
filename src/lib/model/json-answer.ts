/** Reading a JSON answer from the model: the first object in the text, checked with zod, and one repair call when it is not valid. */
import type { z } from "zod";
import { AppError } from "../errors";
import type { CallOptions, ChatMessage, Completion } from "./anthropic-adapter";
import type { Model } from "./generation-types";
import { invalidAnswerRequest } from "./prompts";

// Characters of an invalid answer sent back with the JSON repair request.
const REPAIR_ECHO_CHARS = 16_000;

/** The first JSON object in a model answer, checked against `schema`; one repair call if it is not valid. */
export async function askJson<S extends z.ZodType>(
  model: Pick<Model, "complete">,
  system: string,
  messages: ChatMessage[],
  schema: S,
  opts: CallOptions,
  onCall: (c: Completion) => void = () => undefined,
): Promise<z.infer<S>> {
  let conversation = messages;
  for (let attempt = 0; attempt < 2; attempt++) {
    const answer = await model.complete(system, conversation, opts);
    onCall(answer);
    const problem = parseJsonAnswer(answer.text, schema);
    if (problem.ok) return problem.value;
    // The invalid answer goes back (its head only, so the repair call stays within the window).
    const echoed = answer.text.length > REPAIR_ECHO_CHARS ? `${answer.text.slice(0, REPAIR_ECHO_CHARS)}\n[…]` : answer.text;
    conversation = [...conversation, { role: "assistant", content: echoed }, { role: "user", content: invalidAnswerRequest(problem.error) }];
  }
  throw new AppError(502, "model_invalid_output", "the model did not return valid JSON after one repair attempt");
}

/** The span from the first `{` to the last `}` parsed and validated, or what is wrong with it (said to the model). */
export function parseJsonAnswer<S extends z.ZodType>(text: string, schema: S): { ok: true; value: z.infer<S> } | { ok: false; error: string } {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end <= start) return { ok: false, error: "no JSON object found" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(start, end + 1));
  } catch (e) {
    return { ok: false, error: `invalid JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  const r = schema.safeParse(parsed);
  return r.success ? { ok: true, value: r.data } : { ok: false, error: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
}
