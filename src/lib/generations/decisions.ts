/** The decisions a generation run records beside its calls: why a prompt was trimmed, segmented or repaired. */
import type { GenerationEvent } from "../model/generation-types";

/** Who serves the model calls: the one adapter speaks the Anthropic Messages API. */
export const MODEL_VENDOR = "anthropic";

export type Decision = { kind: "trim" | "segmentation" | "repair" | "sources"; pass: string | null; reason: string };

/** The decision an event reports, if it is one. */
export function decisionOf(e: GenerationEvent): Decision | undefined {
  switch (e.type) {
    case "trimmed":
      return { kind: "trim", pass: e.pass, reason: `the API counted ${e.counted} tokens, over the limit of ${e.limit}; assembled again within ${e.budget}` };
    case "fallback":
      return { kind: "segmentation", pass: "expand", reason: `${e.reason}; proposed in ${e.segments} segments and cross-checked` };
    case "repair":
      return { kind: "repair", pass: `repair ${e.attempt}`, reason: "the change failed verification; its failing output was sent back for a repair" };
    case "sources":
      return { kind: "sources", pass: e.pass, reason: `claims without a source in the prompt (${e.unsupported.join("; ")}); asked once more to cite them` };
    default:
      return undefined;
  }
}
