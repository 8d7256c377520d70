/**
 * The install cache's bound, on a real runner whose cache holds 8 MiB (test/node/global-setup.ts): entries
 * go least recently used first when a new one is written, an entry a run has mounted stays, and an entry
 * larger than the whole bound serves the run that installed it and goes when that run ends.
 */
import { describe, expect, inject, it } from "vitest";
import { LocalRunnerSandbox, type SandboxOutcome } from "../../src/lib/sandbox/sandbox";

const { url, secret, maxBytes } = inject("sandboxRunnerSmallCache");
const MiB = 1024 * 1024;
const limits = { cpuSeconds: 30, memoryMb: 512, processes: 32, outputBytes: 64 * 1024, wallSeconds: 120, workspaceMb: 128 };
// Each test's keys are its own (the scope is part of the key), so the cache's state before it does not matter.
const scope = `evict-${crypto.randomUUID()}`;

/** A run whose install writes `mib` MiB of incompressible bytes into node_modules; the key is named by `name`. */
function run(name: string, mib: number, commands = ["test -s node_modules/blob && echo present"]): Promise<SandboxOutcome> {
  const install = { commands: [`head -c ${mib * MiB} /dev/urandom > node_modules/blob # ${name}`], lockfiles: [], allowScripts: false, scope };
  return new LocalRunnerSandbox(url, secret).run({ files: [{ path: "a.txt", content: "a\n" }], commands, install, limits }, () => undefined);
}

const cached = async (name: string, mib: number): Promise<boolean> => {
  const outcome = await run(name, mib);
  expect(outcome.results[0]?.stdout).toBe("present\n");
  return outcome.install?.cached ?? false;
};

describe("the install cache's bound", () => {
  it("evicts the least recently used entries when a new one does not fit, keeping the recently used", async () => {
    expect(maxBytes).toBe(8 * MiB);
    expect(await cached("a", 3)).toBe(false);
    expect(await cached("b", 3)).toBe(false);
    // A is used again, so B is now the least recently used.
    expect(await cached("a", 3)).toBe(true);
    // C makes 9 MiB: B goes, A and C stay.
    expect(await cached("c", 3)).toBe(false);
    expect(await cached("a", 3)).toBe(true);
    expect(await cached("c", 3)).toBe(true);
    expect(await cached("b", 3)).toBe(false);
  });

  it("keeps an entry larger than the whole bound for the run that installed it, and drops it when that run ends", async () => {
    const first = await run("huge", 10);
    // The run's checks had the dependencies even though the entry alone is over the bound: it was pinned.
    expect(first.install).toMatchObject({ cached: false, ok: true });
    expect(first.results[0]?.stdout).toBe("present\n");
    // Evicted once its run let go of it: the next run installs again.
    expect(await cached("huge", 10)).toBe(false);
  });
});
