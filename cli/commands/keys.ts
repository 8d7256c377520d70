/** winky keys [list | create <name> [--scopes a,b] [--projects p,q] [--expires 30d|ISO] | revoke <id>] */
import type { Ctx } from "../context";
import { required } from "../context";
import { UsageError } from "../exit-codes";
import { table } from "../output";

const list = (v: string | undefined): string[] | undefined =>
  v === undefined
    ? undefined
    : v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);

/** `30d`, `12h` or `90m` from now, or an ISO date-time, as the ISO date-time the API takes. */
export function expiresAt(value: string, now = Date.now()): string {
  const rel = /^(\d+)([dhm])$/.exec(value);
  if (rel) return new Date(now + Number(rel[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[rel[2] as "d" | "h" | "m"]).toISOString();
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new UsageError(`--expires takes 30d, 12h, 90m or an ISO date-time (got "${value}")`);
  return new Date(at).toISOString();
}

export async function keys(ctx: Ctx): Promise<void> {
  const [action = "list", arg] = ctx.args;
  const client = ctx.client();
  if (action === "list") {
    const page = await client.keys.list({ limit: 500 });
    ctx.out.result(page, () =>
      table([
        ["ID", "NAME", "PREFIX", "SCOPES", "PROJECTS", "EXPIRES", "REVOKED"],
        ...page.keys.map((k) => [k.keyId, k.name, k.prefix, k.scopes.join(","), k.projectIds?.join(",") ?? "all", k.expiresAt ?? "-", k.revokedAt ?? "-"]),
      ]),
    );
  } else if (action === "create") {
    const name = required(arg ?? ctx.flags.name, "the key's name: winky keys create <name>");
    const scopes = list(ctx.flags.scopes) as ("read" | "ingest" | "generate" | "sandbox" | "admin")[] | undefined;
    const projectIds = list(ctx.flags.projects);
    const minted = await client.keys.create({
      name,
      ...(scopes ? { scopes } : {}),
      ...(projectIds ? { projectIds } : {}),
      ...(ctx.flags.expires ? { expiresAt: expiresAt(ctx.flags.expires) } : {}),
    });
    ctx.out.result(minted, `${minted.keyId}\n${minted.apiKey}\n(the key is shown once: store it now)`);
  } else if (action === "revoke") {
    const keyId = required(arg, "the key's id: winky keys revoke <id>");
    await client.keys.revoke(keyId);
    ctx.out.result({ keyId, revoked: true }, `revoked ${keyId}`);
  } else {
    throw new UsageError(`unknown keys action "${action}": list, create <name> or revoke <id>`);
  }
}
