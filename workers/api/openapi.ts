/**
 * The API's OpenAPI 3.1 document, made from the routes themselves: each route names its responses with
 * `describe` (zod schemas from src/lib/contract), and `jsonOf`/`queryOf` lend their request schemas.
 * hono-openapi walks `app.routes` and turns both into the document served at GET /openapi.json.
 *
 * Under test (`WINKY_VALIDATE_RESPONSES=on`) `describe` also checks every response against the schema of
 * its status, fields the schema does not declare included, and answers a mismatch with a 500 — so every
 * integration test is a conformance test of the document.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { type DescribeRouteOptions, describeRoute, type GenerateSpecOptions, generateSpecs, resolver, uniqueSymbol } from "hono-openapi";
import type { OpenAPIV3_1 } from "openapi-types";
import { z } from "zod";
import type { Scope } from "../../src/lib/auth/scopes";
import { ErrorEnvelope } from "../../src/lib/contract/common";
import { AppError } from "../../src/lib/errors";
import type { AppEnv } from "./types";

/** Who may call a route: a key with this scope, the operator's bootstrap token, a signed webhook, anyone. */
/** `key`: any valid key, whatever its scopes. */
export type Caller = Scope | "key" | "operator" | "webhook" | "public";

/**
 * A response body: a JSON schema, JSON or a stream of NDJSON lines, a body of other media types (an HTML
 * page, a protocol's own stream: only the type is checked), or no body.
 */
type Stream = { ndjson: z.ZodType; json?: z.ZodType };
type Media = { media: string[]; description: string };
type Body = z.ZodType | Stream | Media | null;

export type RouteDoc = {
  summary: string;
  description?: string;
  tags: string[];
  caller: Caller;
  /** Statuses and their bodies; any other 4xx/5xx is the one error envelope (or `errors`). */
  responses: Partial<Record<number, Body>>;
  /** A protocol's own error body, accepted beside the envelope at a 4xx/5xx (MCP's JSON-RPC errors). */
  errors?: z.ZodType;
  /** A body that is not JSON (an archive, a part's bytes). */
  requestBody?: { media: string[]; description: string };
};

const DESCRIPTIONS: Record<string, string> = { "101": "switching to a WebSocket", "204": "done; no body", "503": "unavailable" };

const isStream = (b: Body): b is Stream => b !== null && "ndjson" in b;
const isMedia = (b: Body): b is Media => b !== null && "media" in b;

function operation(doc: RouteDoc): DescribeRouteOptions {
  const responses: NonNullable<DescribeRouteOptions["responses"]> = {};
  for (const [status, body] of Object.entries(doc.responses) as [string, Body][]) {
    const description = DESCRIPTIONS[status] ?? "success";
    if (body === null) responses[status] = { description };
    else if (isMedia(body))
      responses[status] = { description: body.description, content: Object.fromEntries(body.media.map((m) => [m, { schema: { type: "string" } }])) };
    else if (isStream(body))
      responses[status] = {
        description: `${description}: JSON when the run ends, or NDJSON events as they happen with Accept: application/x-ndjson`,
        content: {
          ...(body.json ? { "application/json": { schema: resolver(body.json) } } : {}),
          "application/x-ndjson": { schema: resolver(body.ndjson) },
        },
      };
    else responses[status] = { description, content: { "application/json": { schema: resolver(body) } } };
  }
  responses.default = { description: "an error, in the one envelope", content: { "application/json": { schema: resolver(ErrorEnvelope) } } };
  const keyed = doc.caller !== "public" && doc.caller !== "webhook";
  return {
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: doc.tags,
    ...(keyed ? { security: [{ bearer: [] }] } : { security: [] }),
    ...(doc.requestBody
      ? {
          requestBody: {
            required: true,
            description: doc.requestBody.description,
            content: Object.fromEntries(doc.requestBody.media.map((m) => [m, { schema: { type: "string", format: "binary" } }])),
          },
        }
      : {}),
    "x-winky-caller": doc.caller,
    responses,
  } as DescribeRouteOptions;
}

/** The route's place in the document and, under test, the check of its responses. */
export function describe(doc: RouteDoc): MiddlewareHandler<AppEnv> {
  const documented = describeRoute(operation(doc));
  const check: MiddlewareHandler<AppEnv> = async (c, next) => {
    await next();
    if (c.env.WINKY_VALIDATE_RESPONSES !== "on") return;
    const problem = await mismatch(doc, c.res);
    if (problem) {
      const err = new AppError(500, "response_schema_mismatch", `${c.req.method} ${c.req.routePath}: ${problem}`);
      c.res = new Response(JSON.stringify(err.toJSON(c.var.requestId)), { status: 500, headers: { "content-type": "application/json" } });
    }
  };
  return Object.assign(check, { [uniqueSymbol]: documented[uniqueSymbol as keyof typeof documented] });
}

/** Lends a request validator's schema to the document (`target`: json body or query string). */
export function lendSchema(middleware: object, target: "json" | "query", schema: z.ZodType): void {
  Object.assign(middleware, { [uniqueSymbol]: { target, ...resolver(schema) } });
}

/** Why a response does not match its route's document, or undefined when it does. */
async function mismatch(doc: RouteDoc, res: Response): Promise<string | undefined> {
  const status = res.status;
  const type = res.headers.get("content-type") ?? "";
  const body = doc.responses[status];
  if (body === undefined && status >= 400)
    return type.includes("application/json")
      ? bodyMismatch(doc.errors ? z.union([ErrorEnvelope, doc.errors]) : ErrorEnvelope, await res.clone().json())
      : `a ${status} without the error envelope`;
  if (body === undefined) return `status ${status} is not in the document`;
  if (body === null) return res.body === null || (await res.clone().text()) === "" ? undefined : `status ${status} should have no body`;
  if (isMedia(body))
    return body.media.some((m) => type.includes(m)) ? undefined : `status ${status} should be ${body.media.join(" or ")}, was ${type || "untyped"}`;
  if (isStream(body)) {
    if (type.includes("application/x-ndjson")) return undefined; // lines are checked by the stream's own tests
    return body.json ? bodyMismatch(body.json, await res.clone().json()) : `status ${status} should be NDJSON`;
  }
  if (!type.includes("application/json")) return `status ${status} should be JSON, was ${type || "untyped"}`;
  return bodyMismatch(body, await res.clone().json());
}

function bodyMismatch(schema: z.ZodType, value: unknown): string | undefined {
  const r = schema.safeParse(value);
  if (!r.success) return r.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
  const extra = undeclared(value, r.data, "");
  return extra.length > 0 ? `fields not in the schema: ${extra.slice(0, 10).join(", ")}` : undefined;
}

/** Paths of the fields `input` has that the parsed `output` dropped (zod strips undeclared keys). */
function undeclared(input: unknown, output: unknown, at: string): string[] {
  if (Array.isArray(input) && Array.isArray(output)) return input.flatMap((v, i) => undeclared(v, output[i], `${at}[${i}]`));
  if (!isRecord(input) || !isRecord(output)) return [];
  return Object.entries(input).flatMap(([k, v]) => {
    const path = at ? `${at}.${k}` : k;
    if (!(k in output)) return v === undefined ? [] : [path];
    return undeclared(v, output[k], path);
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The document's frame; the paths come from the routes. */
const FRAME: Partial<GenerateSpecOptions> = {
  documentation: {
    info: {
      title: "Winky Context API",
      version: "1",
      description:
        "Ingest a codebase, assemble the best context for a prompt within a token budget (every piece traceable to its source lines), and drive generation with sandbox verification. Errors always come in one envelope: `{ error: { code, message, issues?, requestId } }`.",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "an API key (POST /api/keys); its scopes and projects bound what it may do" } },
    },
  },
  defaultValidationErrorResponse: false,
  // Otherwise a path whose last segment has a dot (/openapi.json) is taken for a static file and left out.
  excludeStaticFile: false,
};

/** The document's own shape, as far as a client relies on it. */
export const OpenApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

const documents = new WeakMap<Hono<AppEnv>, Promise<OpenAPIV3_1.Document>>();

/** The OpenAPI document of `app`, made once per isolate. */
export function openApiDocument(app: Hono<AppEnv>): Promise<OpenAPIV3_1.Document> {
  let doc = documents.get(app);
  if (!doc) {
    doc = generateSpecs(app, FRAME) as Promise<OpenAPIV3_1.Document>;
    documents.set(app, doc);
  }
  return doc;
}
