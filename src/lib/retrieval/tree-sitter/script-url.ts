// tree-sitter's UMD build asks for its own URL while it loads (`__filename` in Node, `document` in a
// browser) and throws in a Worker, where neither exists. It only uses the URL to find files that
// load.ts hands over directly, so any file URL will do. Imported before tree-sitter, so it runs first.
const g = globalThis as { __filename?: string };
g.__filename ??= "/tree-sitter/tree-sitter.js";
