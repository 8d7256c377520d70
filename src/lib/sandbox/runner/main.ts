// Entry of the local sandbox runner (started by `npm run dev` and by the tests): settings from the environment.
import { startRunner } from "./server";

const secret = process.env.SANDBOX_RUNNER_SECRET;
if (!secret) throw new Error("SANDBOX_RUNNER_SECRET is not set");
const runner = await startRunner({ port: Number(process.env.SANDBOX_RUNNER_PORT ?? 8790), secret, root: process.env.SANDBOX_RUNNER_ROOT ?? "/tmp/winky-runs" });
console.log(`sandbox runner listening on ${runner.url}`);
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => void runner.close().then(() => process.exit(0)));
