/** What every command is handed: its arguments and flags, the output, and the client for the resolved server and key. */
import { WinkyClient } from "../src/client";
import type { Settings } from "./config";
import { MissingKeyError, UsageError } from "./exit-codes";
import type { Output } from "./output";

export type Flags = {
  server?: string | undefined;
  key?: string | undefined;
  json?: boolean | undefined;
  project?: string | undefined;
  name?: string | undefined;
  "multipart-threshold"?: string | undefined;
  budget?: string | undefined;
  out?: string | undefined;
  apply?: boolean | undefined;
  yes?: boolean | undefined;
  "skip-verify"?: boolean | undefined;
  after?: string | undefined;
  "until-idle"?: boolean | undefined;
  scopes?: string | undefined;
  projects?: string | undefined;
  expires?: string | undefined;
};

export type Ctx = {
  /** The positionals after the command's name. */
  args: string[];
  flags: Flags;
  out: Output;
  settings: Settings;
  client(): WinkyClient;
};

export function makeClient(settings: Settings): WinkyClient {
  if (!settings.apiKey) throw new MissingKeyError();
  return new WinkyClient({ server: settings.server, apiKey: settings.apiKey });
}

/** The flag's value as a whole number, or a usage error. */
export function intFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} takes a whole number (got "${value}")`);
  return Number(value);
}

export function required(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}
