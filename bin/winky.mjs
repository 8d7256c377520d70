#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx so the CLI shares the product's own modules.
import { register } from "tsx/esm/api";

register();
await import("../cli/winky.ts");
