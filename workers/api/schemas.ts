/** Request schemas more than one route reads (routes never import each other). */
import { z } from "zod";
import { DEFAULT_MODEL } from "../../src/lib/model/anthropic-adapter";

/** The fields of an assembly request, with or without a session. */
export const AssembleFields = z.object({
  prompt: z.string().trim().min(1, "the prompt is empty").max(200_000, "the prompt is over 200,000 characters"),
  budget: z.number().int().min(4096).max(1_000_000).default(500_000),
  hotPaths: z.array(z.string().min(1).max(1024)).max(500).default([]),
  model: z.string().min(1).max(128).default(DEFAULT_MODEL),
  includeText: z.boolean().default(false),
});

export const SessionId = z.string().regex(/^ses_[A-Za-z0-9_-]{8,64}$/, "not a session id");
