/**
 * The install phase a run gets when its project sets none: picked from the lockfiles at the project's root,
 * one command per ecosystem present, each reproducing exactly what its lockfile pins. A project with no
 * lockfile installs nothing (its checks run on what the sandbox has).
 */

export type InstallPlan = { commands: string[]; lockfiles: string[] };

// Every file whose content keys the dependency cache, wherever a project keeps its pins.
const LOCKFILE =
  /^(package-lock\.json|npm-shrinkwrap\.json|pnpm-lock\.yaml|yarn\.lock|poetry\.lock|uv\.lock|go\.sum|go\.mod|Cargo\.lock|requirements[\w.-]*\.txt)$/;

/** Whether `path` is a lockfile detection reads (root-level only: nested packages are not installed). */
export function isLockfile(path: string): boolean {
  return LOCKFILE.test(path);
}

// The files pip installs from, in this order: the base set first, then development and test extras.
const REQUIREMENTS = /^requirements([-_.][\w.-]+)?\.txt$/;

/** The install commands and lockfiles for a tree's paths, or null when it has no lockfile. */
export function detectInstall(paths: Iterable<string>): InstallPlan | null {
  const root = new Set([...paths].filter((p) => !p.includes("/")));
  const commands: string[] = [];
  const lockfiles: string[] = [];
  const use = (command: string, ...files: string[]): void => {
    commands.push(command);
    lockfiles.push(...files);
  };
  // JavaScript: one package manager, the one whose lockfile is there (npm's first, as npm itself prefers it).
  if (root.has("package-lock.json")) use("npm ci", "package-lock.json");
  else if (root.has("npm-shrinkwrap.json")) use("npm ci", "npm-shrinkwrap.json");
  else if (root.has("pnpm-lock.yaml")) use("pnpm install --frozen-lockfile --store-dir /tmp/.pnpm-store", "pnpm-lock.yaml");
  else if (root.has("yarn.lock")) use(root.has(".yarnrc.yml") ? "yarn install --immutable" : "yarn install --frozen-lockfile --non-interactive", "yarn.lock");
  // Python: uv and Poetry make .venv in the project themselves; pip gets one that also sees the system's packages.
  if (root.has("uv.lock")) use("uv sync --frozen", "uv.lock");
  else if (root.has("poetry.lock")) use("poetry install --no-root --no-interaction", "poetry.lock");
  else {
    const requirements = [...root].filter((p) => REQUIREMENTS.test(p)).sort((a, b) => a.length - b.length || a.localeCompare(b));
    if (requirements.length > 0)
      use(`python3 -m venv --system-site-packages .venv && .venv/bin/pip install ${requirements.map((r) => `-r ${r}`).join(" ")}`, ...requirements);
  }
  if (root.has("go.sum")) use("go mod download", "go.sum", ...(root.has("go.mod") ? ["go.mod"] : []));
  if (root.has("Cargo.lock")) use("cargo fetch --locked", "Cargo.lock");
  return commands.length > 0 ? { commands, lockfiles } : null;
}

/** The lockfiles present for a project's own install commands: all of them key its cache. */
export function lockfilesIn(paths: Iterable<string>): string[] {
  return [...paths].filter((p) => !p.includes("/") && isLockfile(p)).sort();
}
