import { describe, expect, it } from "vitest";
import { type Link, planLinks, whyRefused } from "../../src/lib/sandbox/runner/links";

const refusal = (path: string, target: string, others: string[] = []): string | null => whyRefused({ path, target }, new Set([path, ...others]));

describe("which links a sandbox may recreate", () => {
  it("keeps links whose target, resolved from the link's directory, stays inside", () => {
    expect(refusal("a/b", "../c")).toBeNull();
    expect(refusal("a/b", "c")).toBeNull();
    expect(refusal("lib/current", "./v2/../v3/")).toBeNull();
    expect(refusal("docs/readme", "../README.md")).toBeNull();
  });

  it("refuses targets that leave the workspace, even for a moment, or are the workspace itself", () => {
    expect(refusal("a", "../../etc/passwd")).toBe("the target leaves the workspace");
    expect(refusal("a/b", "../../c")).toBe("the target leaves the workspace");
    expect(refusal("a/b", "../../a/c")).toBe("the target leaves the workspace");
    expect(refusal("a", ".")).toBe("the target is the workspace itself");
    expect(refusal("a/b", "..")).toBe("the target is the workspace itself");
  });

  it("refuses absolute targets", () => {
    expect(refusal("a", "/etc/passwd")).toBe("the target is absolute");
    expect(refusal("a", "C:/Windows")).toBe("the target is absolute");
    expect(refusal("a", "..\\..\\etc")).toBe("the target is empty or has a NUL or a backslash");
  });

  it("refuses a link under a linked directory, and a target that steps back out of another link", () => {
    expect(refusal("d/x", "y", ["d"])).toBe("the link's directory goes through the link d");
    expect(refusal("d/e/x", "../y", ["d"])).toBe("the link's directory goes through the link d");
    // `s -> sub/deep` makes s/.. mean sub, not the root: lexical resolution would be wrong past a link.
    expect(refusal("up", "s/../../etc", ["s"])).toBe("the target steps back out of another link");
    expect(refusal("up", "s/x/..", ["s"])).toBe("the target steps back out of another link");
    expect(refusal("into", "s/x", ["s"])).toBeNull();
  });

  it("refuses link paths that are not plain, or that a file or its directory already has", () => {
    const files = new Set(["src/a.ts", "README.md"]);
    const dirs = new Set(["src"]);
    const why = (path: string): string | null => whyRefused({ path, target: "README.md" }, new Set([path]), files, dirs);
    expect(why("../x")).toBe("the link's path is not a plain relative path");
    expect(why("/x")).toBe("the link's path is not a plain relative path");
    expect(why("src")).toBe("a file or directory already has the link's path");
    expect(why("src/a.ts")).toBe("a file or directory already has the link's path");
    expect(whyRefused({ path: "README.md/x", target: "../src" }, new Set(["README.md/x"]), files, dirs)).toBe("the link's directory README.md is a file");
    expect(why("docs/link")).toBeNull();
  });

  it("plans a snapshot's links: the safe ones to write, in path order, the others with why", () => {
    const links: Link[] = [
      { path: "z/up", target: "../a" },
      { path: "a", target: "src" },
      { path: "a/inner", target: "x" },
      { path: "escape", target: "../../etc/passwd" },
      { path: "z/up", target: "../src" },
    ];
    const { write, refused } = planLinks(links, ["src/index.ts"]);
    expect(write).toEqual([
      { path: "a", target: "src" },
      { path: "z/up", target: "../a" },
    ]);
    expect(refused).toEqual([
      { path: "z/up", target: "../src", reason: "another link has the same path" },
      { path: "a/inner", target: "x", reason: "the link's directory goes through the link a" },
      { path: "escape", target: "../../etc/passwd", reason: "the target leaves the workspace" },
    ]);
  });
});
