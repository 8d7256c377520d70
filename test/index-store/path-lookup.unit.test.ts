import { describe, expect, it } from "vitest";
import { buildPathLookup, resolveImport } from "../../src/lib/index-store/path-lookup";

describe("the path-suffix index", () => {
  it("lists every path under each suffix and each directory suffix", () => {
    const lookup = buildPathLookup(["a/b/c.ts", "x/b/c.ts", "d.ts"]);
    expect(lookup.bySuffix.get("c.ts")).toEqual(["a/b/c.ts", "x/b/c.ts"]);
    expect(lookup.bySuffix.get("b/c.ts")).toEqual(["a/b/c.ts", "x/b/c.ts"]);
    expect(lookup.bySuffix.get("a/b/c.ts")).toEqual(["a/b/c.ts"]);
    expect(lookup.bySuffix.get("a/b/")).toEqual(["a/b/c.ts"]);
    expect(lookup.bySuffix.get("b/")).toEqual(["a/b/c.ts", "x/b/c.ts"]);
    expect(lookup.set.has("d.ts")).toBe(true);
  });

  it("resolves a relative import to the exact file", () => {
    const lookup = buildPathLookup(["src/a.ts", "src/util.ts", "lib/util.ts"]);
    expect(resolveImport("src/a.ts", "./util", lookup)).toEqual(["src/util.ts"]);
  });

  it("resolves a Go package path to the files of its directory, and nothing when no file matches", () => {
    const lookup = buildPathLookup(["cmd/main.go", "internal/store/store.go", "internal/store/db.go"]);
    expect(resolveImport("cmd/main.go", "example.com/app/internal/store", lookup).sort()).toEqual(["internal/store/db.go", "internal/store/store.go"]);
    expect(resolveImport("cmd/main.go", "example.com/app/internal/missing", lookup)).toEqual([]);
  });
});
