/**
 * Which toolchain each check needs, from the programs its command starts, and the probe that shows the
 * sandbox has it. Both sandboxes probe before the first command, so a run on a machine without, say, Go
 * ends at once with `toolchain_missing` naming it instead of failing later as if the change were wrong.
 */

export type Toolchain = { name: string; probe: string };

/** The error code of a run whose checks need a toolchain the sandbox lacks (422; the run is recorded as `error`). */
export const TOOLCHAIN_MISSING = "toolchain_missing";

const NODE: Toolchain = { name: "node", probe: "node --version" };
const PYTHON: Toolchain = { name: "python3", probe: "python3 --version" };
const PYTEST: Toolchain = { name: "pytest (for python3)", probe: "python3 -m pytest --version" };
const GO: Toolchain = { name: "go", probe: "go version" };
const CARGO: Toolchain = { name: "cargo (Rust)", probe: "cargo --version" };
const PNPM: Toolchain = { name: "pnpm", probe: "pnpm --version" };
const YARN: Toolchain = { name: "yarn", probe: "yarn --version" };
const UV: Toolchain = { name: "uv", probe: "uv --version" };
const POETRY: Toolchain = { name: "poetry", probe: "poetry --version" };

// The program a command segment starts → what it needs. Programs not listed are not probed (`sh` finds them or says so).
const BY_PROGRAM: Record<string, Toolchain[]> = {
  node: [NODE],
  npm: [NODE],
  npx: [NODE],
  python: [PYTHON],
  python3: [PYTHON],
  pytest: [PYTEST],
  "py.test": [PYTEST],
  go: [GO],
  gofmt: [GO],
  cargo: [CARGO],
  pnpm: [NODE, PNPM],
  yarn: [NODE, YARN],
  uv: [UV],
  poetry: [POETRY],
};

/** The toolchains `command` needs: the first program of each `&&`, `||`, `;` or `|` segment, after any VAR=value. */
export function toolchainsFor(command: string): Toolchain[] {
  const out = new Map<string, Toolchain>();
  for (const segment of command.split(/&&|\|\||[;|\n]/)) {
    const words = segment.trim().split(/\s+/).filter(Boolean);
    while (words[0] && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) words.shift();
    if (words[0] === "exec" || words[0] === "env" || words[0] === "time") words.shift();
    const program = words[0]?.split("/").at(-1) ?? "";
    const needs = BY_PROGRAM[program] ?? [];
    for (const t of needs) out.set(t.name, t);
    // `python3 -m pytest` needs pytest in that Python.
    if (needs[0] === PYTHON && words[1] === "-m" && words[2] === "pytest") out.set(PYTEST.name, PYTEST);
  }
  return [...out.values()];
}

/** Every toolchain the commands need, each once, in the order first needed. */
export function toolchainsForAll(commands: readonly string[]): { toolchain: Toolchain; command: string }[] {
  const seen = new Map<string, { toolchain: Toolchain; command: string }>();
  for (const command of commands) for (const t of toolchainsFor(command)) if (!seen.has(t.name)) seen.set(t.name, { toolchain: t, command });
  return [...seen.values()];
}

/** The message of a run that cannot start: which check needs what the sandbox lacks. */
export function missingToolchainMessage(missing: readonly { toolchain: Toolchain; command: string }[]): string {
  const each = missing.map((m) => `\`${m.command}\` needs ${m.toolchain.name}`).join("; ");
  return `${each}: not installed in this sandbox (install it, or set the project's checkCommands to checks it can run)`;
}
