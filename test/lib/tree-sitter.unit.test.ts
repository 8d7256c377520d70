import { expect, it } from "vitest";
import { language, treeSitter } from "../../src/lib/retrieval/tree-sitter/load";

it("parses TypeScript inside workerd", async () => {
  const ts = await treeSitter();
  const parser = new ts.Parser();
  parser.setLanguage(await language("typescript"));
  const tree = parser.parse("export function add(a: number, b: number) { return a + b; }\nclass A { m() {} }\n");
  expect(tree?.rootNode.type).toBe("program");
  expect(tree?.rootNode.toString()).toContain("function_declaration");
});

import { extractSymbols } from "../../src/lib/retrieval/symbols";

const SAMPLES: [string, string, { defs: string[]; imports: string[]; refs: string[] }][] = [
  [
    "src/cart.ts",
    `import { price } from "./price";\nexport interface Item { sku: string }\nexport class Cart {\n  add(item: Item) { return price(item); }\n}\nexport const EMPTY = new Cart();\ntype Id = string;\n`,
    { defs: ["Item", "Cart", "add", "EMPTY", "Id"], imports: ["./price"], refs: ["price", "Cart", "Item"] },
  ],
  [
    "lib/util.js",
    `const fs = require("fs");\nfunction readAll(p) { return fs.readFileSync(p); }\nclass Reader {}\n`,
    { defs: ["fs", "readAll", "Reader"], imports: ["fs"], refs: ["readFileSync"] },
  ],
  [
    "pkg/app.py",
    `import os\nfrom .models import User\n\nTIMEOUT = 30\n\nclass Service:\n    def run(self):\n        return User.load(os.getcwd())\n`,
    { defs: ["TIMEOUT", "Service", "run"], imports: ["os", ".models"], refs: ["load", "getcwd"] },
  ],
  [
    "cmd/main.go",
    `package main\n\nimport "github.com/acme/app/store"\n\ntype Server struct{}\n\nfunc (s *Server) Start() { store.Open() }\n\nfunc main() {}\n`,
    { defs: ["Server", "Start", "main"], imports: ["github.com/acme/app/store"], refs: ["Open", "Server"] },
  ],
  [
    "src/lib.rs",
    `use crate::store::Store;\nmod parser;\npub struct Engine;\nimpl Engine { pub fn run(&self) { Store::open(); } }\nfn helper() {}\n`,
    { defs: ["Engine", "run", "helper", "parser"], imports: ["crate::store::Store", "parser"], refs: ["open", "Store"] },
  ],
  [
    "src/main/java/App.java",
    `import com.acme.Store;\npublic class App {\n  public App() {}\n  void run() { new Store().open(); }\n}\n`,
    { defs: ["App", "run"], imports: ["com.acme.Store"], refs: ["open", "Store"] },
  ],
];

it.each(SAMPLES)("extracts definitions, imports and references of %s with tree-sitter", async (path, text, want) => {
  const symbols = await extractSymbols(path, text);
  const names = (kind: string) => symbols.filter((s) => s.kind === kind).map((s) => s.name);
  expect(names("def")).toEqual(expect.arrayContaining(want.defs));
  expect(names("import")).toEqual(expect.arrayContaining(want.imports));
  expect(names("ref")).toEqual(expect.arrayContaining(want.refs));
  for (const s of symbols.filter((x) => x.kind === "def")) expect(s.signature.length).toBeGreaterThan(0);
});

it("falls back to line patterns for languages without a grammar", async () => {
  const symbols = await extractSymbols("src/util.c", `#include "util.h"\nstruct point { int x; };\nint add(int a, int b) { return a + b; }\n`);
  expect(symbols.filter((s) => s.kind === "import").map((s) => s.name)).toEqual(["util.h"]);
});
