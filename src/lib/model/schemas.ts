/** The model's answers, validated with zod: a plan (pass 1), and a proposed change with the chunk ids behind each claim. */
import { z } from "zod";

export const Plan = z.object({
  summary: z.string().min(1),
  steps: z
    .array(z.object({ description: z.string().min(1), files: z.array(z.string()).default([]), sources: z.array(z.string()).default([]) }))
    .min(1)
    .max(40),
});
export type Plan = z.infer<typeof Plan>;

export const ProposedChange = z.object({
  files: z.array(z.object({ path: z.string().min(1), content: z.string() })).default([]),
  diff: z.string().optional(),
  sources: z.array(z.object({ claim: z.string(), chunkIds: z.array(z.string()) })).default([]),
});
export type ProposedChange = z.infer<typeof ProposedChange>;
