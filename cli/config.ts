/**
 * Where the CLI finds its server and key: defaults (the local dev server, the key in ./.dev.vars), then
 * the config file `winky login` writes, then WINKY_SERVER / WINKY_API_KEY, then --server / --key.
 */
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export type StoredConfig = { server?: string; apiKey?: string };
export type Settings = { server: string; apiKey: string | undefined };

type Env = Record<string, string | undefined>;

/** `$XDG_CONFIG_HOME/winky/config.json`, or `~/.config/winky/config.json`. */
export function configPath(env: Env = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "winky", "config.json");
}

export async function readConfig(path: string): Promise<StoredConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return {};
  }
  const parsed = JSON.parse(text) as unknown;
  if (parsed === null || typeof parsed !== "object") return {};
  const { server, apiKey } = parsed as Record<string, unknown>;
  return { ...(typeof server === "string" ? { server } : {}), ...(typeof apiKey === "string" ? { apiKey } : {}) };
}

/** Writes the config readable by its owner only (the file 0600, its directory 0700), replacing it whole. */
export async function writeConfig(path: string, config: StoredConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await chmod(dirname(path), 0o700);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}

async function devVarsKey(): Promise<string | undefined> {
  try {
    return /^WINKY_API_KEY=(.+)$/m.exec(await readFile(".dev.vars", "utf8"))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

/** The server and key for this run; flags win over the environment, which wins over the config file. */
export async function resolveSettings(flags: { server?: string | undefined; key?: string | undefined }, env: Env = process.env): Promise<Settings> {
  const stored = await readConfig(configPath(env));
  const server = flags.server ?? env.WINKY_SERVER ?? stored.server ?? `http://127.0.0.1:${env.PORT ?? "8787"}`;
  const apiKey = flags.key ?? env.WINKY_API_KEY ?? stored.apiKey ?? (await devVarsKey());
  return { server: server.replace(/\/+$/, ""), apiKey };
}
