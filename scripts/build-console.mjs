// The web console: bundles console/main.tsx (Preact, the typed client) with esbuild into dist/console/app.js
// and copies the page and its stylesheet beside it; wrangler.toml serves dist/console as the Worker's assets.
import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build, context } from "esbuild";

const root = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));
export const CONSOLE_DIR = root("dist/console");
const STATIC_FILES = ["index.html", "console.css"];

const options = {
  entryPoints: [root("console/main.tsx")],
  outfile: `${CONSOLE_DIR}/app.js`,
  bundle: true,
  platform: "browser",
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  minify: true,
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
};

function copyStatic() {
  mkdirSync(CONSOLE_DIR, { recursive: true });
  for (const f of STATIC_FILES) copyFileSync(root(`console/${f}`), `${CONSOLE_DIR}/${f}`);
}

export async function buildConsole() {
  copyStatic();
  await build(options);
  return CONSOLE_DIR;
}

/** Rebuilds on every change under console/ (npm run dev); wrangler dev serves the new files at once. */
export async function watchConsole() {
  copyStatic();
  const copyPlugin = { name: "copy-static", setup: (b) => b.onEnd(() => copyStatic()) };
  const ctx = await context({ ...options, minify: false, plugins: [copyPlugin] });
  await ctx.watch();
  return ctx;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`built ${await buildConsole()}`);
}
