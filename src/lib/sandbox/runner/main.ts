// Entry of the local sandbox runner (started by `npm run dev` and by the tests): settings from the environment.
import { parseCacheMaxBytes } from "./cache-eviction";
import { parseRegistries } from "./registries";
import { startRunner } from "./server";

const secret = process.env.SANDBOX_RUNNER_SECRET;
if (!secret) throw new Error("SANDBOX_RUNNER_SECRET is not set");
const runner = await startRunner({
  port: Number(process.env.SANDBOX_RUNNER_PORT ?? 8790),
  secret,
  root: process.env.SANDBOX_RUNNER_ROOT ?? "/tmp/winky-runs",
  // The registries installs may reach, as JSON ({ "npm": { "url": …, "hosts": […] }, … }); the public ones by default.
  registries: parseRegistries(process.env.SANDBOX_REGISTRIES),
  // The install cache's bound in bytes (default 4 GiB): least recently used entries go first, never one in use.
  cacheMaxBytes: parseCacheMaxBytes(process.env.SANDBOX_CACHE_MAX_BYTES),
});
console.log(`sandbox runner listening on ${runner.url}; limits: ${JSON.stringify(runner.limits)}`);
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => void runner.close().then(() => process.exit(0)));
