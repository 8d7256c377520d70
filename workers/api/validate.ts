/**
 * Input checked at the edge with zod: Hono validator middleware (handlers read `c.req.valid(...)`), and
 * `parseWith` for values a handler only has mid-way (a signed payload, a path parameter). Both validators
 * lend their schema to the OpenAPI document.
 */
import type { Context } from "hono";
import { validator } from "hono/validator";
import type { z } from "zod";
import { AppError } from "../../src/lib/errors";
import { lendSchema } from "./openapi";

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

/**
 * The JSON body checked against `schema`. The body is read as JSON whatever its content type (`curl -d`
 * sends form encoding), so a body that is not JSON is `invalid_json`, never an empty object.
 */
export const jsonOf = <S extends z.ZodType>(schema: S) => {
  const check = validator("json", async (_value, c) => {
    const body = parseWith(schema, await readJson(c));
    const projectId = (body as { projectId?: unknown } | null)?.projectId;
    if (typeof projectId === "string") c.set("bodyProjectId", projectId);
    return body;
  });
  lendSchema(check, "json", schema);
  return check;
};

/** The query string checked against `schema`. */
export const queryOf = <S extends z.ZodType>(schema: S) => {
  const check = validator("query", (value) => parseWith(schema, value, "query"));
  lendSchema(check, "query", schema);
  return check;
};

async function readJson(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new AppError(400, "invalid_json", "the request body is not valid JSON");
  }
}
