// npm run build (and npm ci's prepare): the CLI bundle (dist/cli) and the web console (dist/console).
import { buildCli } from "./build-cli.mjs";
import { buildConsole } from "./build-console.mjs";

console.log(`built ${await buildCli()}`);
console.log(`built ${await buildConsole()}`);
