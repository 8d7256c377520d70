/**
 * winky: the command-line client. Parses the command line, resolves the server and key, runs one
 * command and exits with a documented code (exit-codes.ts).
 */
import { parseArgs } from "node:util";
import { askCommand } from "./commands/ask";
import { assemble } from "./commands/assemble";
import { ingest } from "./commands/ingest";
import { keys } from "./commands/keys";
import { login } from "./commands/login";
import { projects } from "./commands/projects";
import { status } from "./commands/status";
import { watch } from "./commands/watch";
import { resolveSettings } from "./config";
import { type Ctx, type Flags, makeClient } from "./context";
import { EXIT, type ExitCode, exitCodeFor, UsageError } from "./exit-codes";
import { Output } from "./output";
import { USAGE } from "./usage";

/** A command answers its exit code, or nothing for 0. */
type Command = (ctx: Ctx) => Promise<unknown>;

const COMMANDS: Record<string, Command> = { login, projects, ingest, status, assemble, ask: askCommand, watch, keys };

const OPTIONS = {
  server: { type: "string" },
  key: { type: "string" },
  // The name the first CLI used for --key.
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  project: { type: "string" },
  name: { type: "string" },
  "multipart-threshold": { type: "string" },
  budget: { type: "string" },
  out: { type: "string", short: "o" },
  apply: { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  "skip-verify": { type: "boolean" },
  after: { type: "string" },
  "until-idle": { type: "boolean" },
  scopes: { type: "string" },
  projects: { type: "string" },
  expires: { type: "string" },
} as const;

async function main(argv: string[]): Promise<ExitCode> {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof OPTIONS }>>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    process.stderr.write(`winky: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { positionals, values } = parsed;
  const [name, ...args] = positionals;
  if (values.help || name === "help") {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`${name ? `winky: unknown command "${name}"\n` : ""}${USAGE}\n`);
    return EXIT.usage;
  }
  const { token, help: _help, ...rest } = values;
  const flags: Flags = { ...rest, key: values.key ?? token };
  const out = new Output(values.json === true);
  try {
    const settings = await resolveSettings(flags);
    const ctx: Ctx = { args, flags, out, settings, client: () => makeClient(settings) };
    const code = await command(ctx);
    return typeof code === "number" ? (code as ExitCode) : EXIT.ok;
  } catch (e) {
    const code = exitCodeFor(e);
    if (out.json && e instanceof Error && "toJSON" in e && typeof e.toJSON === "function") process.stdout.write(`${JSON.stringify(e.toJSON())}\n`);
    else if (out.json)
      process.stdout.write(
        `${JSON.stringify({ error: { code: code === EXIT.usage ? "usage" : "failure", message: e instanceof Error ? e.message : String(e) } })}\n`,
      );
    process.stderr.write(`winky: ${e instanceof Error ? e.message : String(e)}${e instanceof UsageError ? `\n(winky --help for usage)` : ""}\n`);
    return code;
  }
}

process.exitCode = await main(process.argv.slice(2));
