/** winky login: checks a server URL and key with one request and stores them in the user's config (0600). */
import { WinkyClient } from "../../src/client";
import { configPath, readConfig, writeConfig } from "../config";
import type { Ctx } from "../context";
import { MissingKeyError } from "../exit-codes";
import { ask } from "../prompt";

export async function login(ctx: Ctx): Promise<void> {
  const interactive = process.stdin.isTTY === true;
  const server = (
    ctx.flags.server ?? (interactive ? (await ask(`server URL [${ctx.settings.server}]: `)) || ctx.settings.server : ctx.settings.server)
  ).replace(/\/+$/, "");
  const apiKey = ctx.flags.key ?? (interactive ? await ask("API key: ") : ctx.settings.apiKey);
  if (!apiKey) throw new MissingKeyError();
  // Listing one key-visible page proves the key is valid for this server (any scope can read projects).
  const client = new WinkyClient({ server, apiKey });
  const page = await client.projects.list({ limit: 1 });
  const path = configPath();
  await writeConfig(path, { ...(await readConfig(path)), server, apiKey });
  ctx.out.result({ server, configPath: path, verified: true, projectsVisible: page.projects.length > 0 }, `logged in to ${server}; saved to ${path}`);
}
