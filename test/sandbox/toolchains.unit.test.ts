import { describe, expect, it } from "vitest";
import { missingToolchainMessage, toolchainsFor, toolchainsForAll } from "../../src/lib/sandbox/runner/toolchains";

const names = (command: string): string[] => toolchainsFor(command).map((t) => t.name);

describe("which toolchain a check needs", () => {
  it("reads the program each segment of the command starts", () => {
    expect(names("go vet ./... && go test ./...")).toEqual(["go"]);
    expect(names("npm test --silent")).toEqual(["node"]);
    expect(names("python3 -m pytest -q")).toEqual(["python3", "pytest (for python3)"]);
    expect(names("python3 -m unittest discover -q")).toEqual(["python3"]);
    expect(names("CI=1 RUST_BACKTRACE=1 cargo test --offline | tee log; node report.js")).toEqual(["cargo (Rust)", "node"]);
    expect(names("/usr/bin/env go test ./...")).toEqual([]);
    expect(names("echo built > report.txt")).toEqual([]);
  });

  it("names each missing toolchain once, with the first check that needs it", () => {
    const needed = toolchainsForAll(["go vet ./...", "go test ./...", "cargo test --offline"]);
    expect(needed.map((n) => [n.toolchain.name, n.command])).toEqual([
      ["go", "go vet ./..."],
      ["cargo (Rust)", "cargo test --offline"],
    ]);
    expect(missingToolchainMessage(needed)).toBe(
      "`go vet ./...` needs go; `cargo test --offline` needs cargo (Rust): not installed in this sandbox (install it, or set the project's checkCommands to checks it can run)",
    );
  });
});
