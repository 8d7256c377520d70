import { describe, expect, it } from "vitest";
import { detectInstall, lockfilesIn } from "../../src/lib/sandbox/detect-install";

describe("detectInstall", () => {
  it("picks each ecosystem's locked install from the root lockfiles", () => {
    expect(detectInstall(["package.json", "package-lock.json", "src/a.js"])).toEqual({ commands: ["npm ci"], lockfiles: ["package-lock.json"] });
    expect(detectInstall(["package.json", "pnpm-lock.yaml"])?.commands).toEqual(["pnpm install --frozen-lockfile --store-dir /tmp/.pnpm-store"]);
    expect(detectInstall(["package.json", "yarn.lock"])?.commands).toEqual(["yarn install --frozen-lockfile --non-interactive"]);
    expect(detectInstall(["package.json", "yarn.lock", ".yarnrc.yml"])?.commands).toEqual(["yarn install --immutable"]);
    expect(detectInstall(["pyproject.toml", "uv.lock"])?.commands).toEqual(["uv sync --frozen"]);
    expect(detectInstall(["pyproject.toml", "poetry.lock"])?.commands).toEqual(["poetry install --no-root --no-interaction"]);
    expect(detectInstall(["go.mod", "go.sum"])).toEqual({ commands: ["go mod download"], lockfiles: ["go.sum", "go.mod"] });
    expect(detectInstall(["Cargo.toml", "Cargo.lock"])).toEqual({ commands: ["cargo fetch --locked"], lockfiles: ["Cargo.lock"] });
  });

  it("installs every root requirements file into a venv that also sees the system's packages, base set first", () => {
    expect(detectInstall(["requirements-dev.txt", "requirements.txt", "docs/requirements.txt"])).toEqual({
      commands: ["python3 -m venv --system-site-packages .venv && .venv/bin/pip install -r requirements.txt -r requirements-dev.txt"],
      lockfiles: ["requirements.txt", "requirements-dev.txt"],
    });
  });

  it("npm's lockfile wins over others of its ecosystem, and ecosystems add up", () => {
    expect(detectInstall(["package-lock.json", "yarn.lock", "requirements.txt", "go.sum"])?.commands).toEqual([
      "npm ci",
      "python3 -m venv --system-site-packages .venv && .venv/bin/pip install -r requirements.txt",
      "go mod download",
    ]);
  });

  it("installs nothing without a root lockfile (nested packages are not installed)", () => {
    expect(detectInstall(["package.json", "src/index.js"])).toBeNull();
    expect(detectInstall(["packages/a/package-lock.json", "tools/requirements.txt"])).toBeNull();
  });

  it("keys a project's own install commands on every root lockfile", () => {
    expect(lockfilesIn(["yarn.lock", "a/package-lock.json", "go.sum", "README.md", "requirements-test.txt"])).toEqual([
      "go.sum",
      "requirements-test.txt",
      "yarn.lock",
    ]);
  });
});
