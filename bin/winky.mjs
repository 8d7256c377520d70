#!/usr/bin/env node
// Launcher: runs the bundled CLI (dist/cli/winky.mjs, made by `npm run build`), building it first when
// it is missing, as in a fresh clone used through `npx winky` or `npm i -g .`.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const bundle = fileURLToPath(new URL("../dist/cli/winky.mjs", import.meta.url));
if (!existsSync(bundle)) {
  const { buildCli } = await import("../scripts/build-cli.mjs");
  await buildCli();
}
await import(pathToFileURL(bundle).href);
