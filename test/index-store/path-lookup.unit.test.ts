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

  it("resolves a Go import of a package at the module's root, whose path holds the module's own name", () => {
    const lookup = buildPathLookup(["clientconn.go", "serviceconfig/serviceconfig.go", "serviceconfig/serviceconfig_test.go", "xds/serviceconfig/lb.go"]);
    expect(resolveImport("clientconn.go", "google.golang.org/grpc/serviceconfig", lookup)).toEqual(["serviceconfig/serviceconfig.go"]);
    // A nested module's package is found by its last two elements, not by one name alone.
    expect(resolveImport("clientconn.go", "example.com/other/xds/serviceconfig", lookup)).toEqual(["xds/serviceconfig/lb.go"]);
  });

  it("never resolves the standard library to the project's own directories of the same name", () => {
    const lookup = buildPathLookup(["main.go", "context/context.go", "http/server.go", "internal/errors/errors.go"]);
    for (const spec of ["context", "net/http", "errors"]) expect(resolveImport("main.go", spec, lookup)).toEqual([]);
    // A third-party import ending in a common name does not land in a nested directory of that name.
    expect(resolveImport("main.go", "github.com/pkg/errors", lookup)).toEqual([]);
  });

  it("resolves a Python absolute import only where the module path starts at a top-level package", () => {
    const lookup = buildPathLookup([
      "astropy/__init__.py",
      "astropy/io/__init__.py",
      "astropy/utils/__init__.py",
      "astropy/utils/collections.py",
      "src/pkg/__init__.py",
      "src/pkg/core.py",
    ]);
    // `import io` and `import collections` are the standard library's, not astropy.io or astropy.utils.collections.
    expect(resolveImport("astropy/table.py", "io", lookup)).toEqual([]);
    expect(resolveImport("astropy/table.py", "collections", lookup)).toEqual([]);
    expect(resolveImport("astropy/table.py", "astropy.io", lookup)).toEqual(["astropy/io/__init__.py"]);
    // A src layout: `src/` is no package, so `pkg` starts there.
    expect(resolveImport("tests/test_core.py", "pkg.core", lookup)).toEqual(["src/pkg/core.py"]);
  });

  it("never resolves Rust's standard library to the project's files, and a `mod` to the file beside its module", () => {
    const lookup = buildPathLookup([
      "tokio/src/loom/std/mod.rs",
      "tokio/src/runtime/task/core.rs",
      "tokio/src/runtime/task/mod.rs",
      "tokio/src/runtime/task/harness.rs",
      "tokio/src/io/harness.rs",
    ]);
    for (const spec of ["std::sync::Arc", "core::task::Poll", "alloc::vec::Vec", "std"]) expect(resolveImport("tokio/src/lib.rs", spec, lookup)).toEqual([]);
    expect(resolveImport("tokio/src/runtime/task/mod.rs", "harness", lookup)).toEqual(["tokio/src/runtime/task/harness.rs"]);
    expect(resolveImport("tokio/src/runtime/task/mod.rs", "crate::runtime::task::core", lookup)).toEqual(["tokio/src/runtime/task/core.rs"]);
  });

  it("links a Go package of many files through the file named like it, and none when there is no such file", () => {
    const files = ["resolver/resolver.go", "resolver/map.go", "resolver/config.go", "resolver/state.go"];
    expect(resolveImport("main.go", "google.golang.org/grpc/resolver", buildPathLookup(["main.go", ...files]))).toEqual(["resolver/resolver.go"]);
    expect(resolveImport("main.go", "google.golang.org/grpc/resolver", buildPathLookup(["main.go", ...files.slice(1), "resolver/addr.go"]))).toEqual([]);
  });
});
