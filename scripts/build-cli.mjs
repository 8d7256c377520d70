// npm run build: bundles the CLI (cli/winky.ts with the client and the modules it shares with the server)
// into one ES module, dist/cli/winky.mjs, so running it needs neither tsx nor TypeScript.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const OUTFILE = fileURLToPath(new URL("../dist/cli/winky.mjs", import.meta.url));

export async function buildCli() {
  await build({
    entryPoints: [fileURLToPath(new URL("../cli/winky.ts", import.meta.url))],
    outfile: OUTFILE,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Bundled CommonJS dependencies (undici) call require() for Node's modules, which an ES module lacks.
    banner: { js: 'import { createRequire as __winkyRequire } from "node:module"; const require = __winkyRequire(import.meta.url);' },
    legalComments: "none",
    logLevel: "warning",
  });
  return OUTFILE;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildCli();
  console.log(`built ${out}`);
}
