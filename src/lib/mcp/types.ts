/** What every MCP tool is given: the caller, the bindings it reads, and the metering the API applies to REST calls too. */
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import type { KeyPrincipal, Scope } from "../auth";
import type { MetricEvent } from "../metrics";
import type { Db } from "../storage";
import type { QuotaKind, Use } from "../usage";

export type McpDeps = {
  env: Env;
  db: Db;
  key: KeyPrincipal;
  requestId: string;
  /** Refuses the call when a quota of `kind` is used up; answers the warnings of quotas at 80% or more. */
  guardQuota(kind: QuotaKind, projectId: string): Promise<string[]>;
  /** Passes on the warnings of a quota check read with others (`quotaRead`), as `guardQuota` does its own. */
  passOnWarnings(warnings: string[]): void;
  /** Adds to the caller's usage after the answer. */
  meter(use: Omit<Use, "orgId" | "keyId">): void;
  /** Records metric events after the answer, as the REST routes do. */
  measure(events: MetricEvent[]): void;
};

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** A tool's answer before it becomes an MCP result: the structured content and the text block a model reads. */
export type ToolAnswer<O> = { structured: O; text: string };

export type ToolDef<I extends z.ZodObject, O extends z.ZodObject> = {
  name: string;
  title: string;
  description: string;
  /** The API key scope the tool needs, as its REST route does. */
  scope: Scope;
  readOnly: boolean;
  input: I;
  output: O;
  run(deps: McpDeps, args: z.output<I>, extra: ToolExtra): Promise<ToolAnswer<z.input<O>>>;
};
