/** Parses input with a zod schema; a failure becomes a 400 that lists every issue. */
import type { Context } from "hono";
import type { z } from "zod";
import { AppError } from "../../src/lib/errors";

export function parseWith<S extends z.ZodType>(schema: S, input: unknown, what = "request body"): z.infer<S> {
  const r = schema.safeParse(input);
  if (!r.success) {
    throw new AppError(
      400,
      "invalid_request",
      `the ${what} is not valid`,
      r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  return r.data;
}

/** The JSON body checked against `schema`; a body that is not JSON is a 400 too. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new AppError(400, "invalid_json", "the request body is not valid JSON");
  }
  return parseWith(schema, body);
}
