/** GET /health: readiness of each dependency. */
import { z } from "zod";

const Check = z.object({ ok: z.boolean(), ms: z.number() });

export const Readiness = z.object({
  ok: z.boolean(),
  status: z.enum(["ok", "degraded", "down"]),
  checks: z.object({
    d1: Check,
    r2: Check,
    queue: Check.extend({ oldestQueuedSeconds: z.number().nullable(), stalledJobs: z.number() }),
    sandbox: Check.extend({ state: z.enum(["local", "container", "absent"]) }),
    model: Check.extend({ configured: z.boolean() }),
  }),
});
