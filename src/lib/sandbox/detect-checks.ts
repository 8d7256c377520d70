/**
 * Checks to run when a request names none, read from the project's own test configuration: package.json
 * scripts, the places pytest is configured (pyproject.toml, setup.cfg, tox.ini, pytest.ini, conftest.py,
 * requirements files), go.mod and Cargo.toml. Every ecosystem present contributes its checks.
 */

type Tree = ReadonlyMap<string, string>;

const PYTEST = "python3 -m pytest -q";
const UNITTEST = "python3 -m unittest discover -q";
// npm's placeholder for a package without tests: it always fails and tests nothing.
const NPM_PLACEHOLDER = /no test specified/;
// A requirements file, wherever it sits: requirements.txt, requirements-dev.txt, requirements/test.txt, dev-requirements.txt.
const REQUIREMENTS = /(^|\/)([\w.-]*requirements[\w.-]*\.(txt|in)|requirements\/[\w.-]+\.(txt|in))$/;

/** Whether an INI or TOML text has the `[name]` section (a header on its own line). */
export function hasSection(text: string | undefined, name: string): boolean {
  if (!text) return false;
  return text.split(/\r?\n/).some((l) => l.trim() === `[${name}]`);
}

/** Whether the project configures or depends on pytest anywhere pytest itself would look, or lists it as a dependency. */
export function usesPytest(tree: Tree): boolean {
  if (tree.has("pytest.ini") || tree.has(".pytest.ini")) return true;
  if ([...tree.keys()].some((p) => p === "conftest.py" || p.endsWith("/conftest.py"))) return true;
  const pyproject = tree.get("pyproject.toml");
  if (hasSection(pyproject, "tool.pytest.ini_options") || hasSection(pyproject, "tool.pytest")) return true;
  if (hasSection(tree.get("setup.cfg"), "tool:pytest") || hasSection(tree.get("tox.ini"), "pytest")) return true;
  // Listed as a dependency: a requirements line, a PEP 621 / Poetry / PEP 735 entry, setup.py's tests_require, tox's commands.
  for (const [path, text] of tree) {
    if (REQUIREMENTS.test(path) && /^\s*pytest\b/im.test(text)) return true;
  }
  if (pyproject && (/["']pytest\b/i.test(pyproject) || /^\s*pytest\s*=/im.test(pyproject))) return true;
  for (const path of ["setup.cfg", "setup.py", "tox.ini", "Pipfile"]) {
    const text = tree.get(path);
    if (text && /\bpytest\b/i.test(withoutComments(text))) return true;
  }
  // Tests written for pytest: plain `def test_…` functions in a test file that never imports unittest.
  return [...tree].some(([path, text]) => isPythonTestFile(path) && /^def test_/m.test(text) && !/^\s*(import|from) unittest\b/m.test(text));
}

/** The text without its whole-line comments (`#` in all of these files, `;` in INI files). */
function withoutComments(text: string): string {
  return text
    .split(/\r?\n/)
    .filter((l) => !/^\s*[#;]/.test(l))
    .join("\n");
}

function isPythonTestFile(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return /^test_.*\.py$/.test(name) || /_test\.py$/.test(name);
}

const CONFIG_FILES = new Set([
  "package.json",
  "tsconfig.json",
  "pyproject.toml",
  "setup.cfg",
  "setup.py",
  "tox.ini",
  "Pipfile",
  "pytest.ini",
  ".pytest.ini",
  "go.mod",
  "Cargo.toml",
]);

/** Whether detection reads the file's text (any other path counts only by its name): the text a snapshot run loads for it. */
export function isDetectionInput(path: string): boolean {
  return CONFIG_FILES.has(path) || path === "conftest.py" || path.endsWith("/conftest.py") || REQUIREMENTS.test(path) || isPythonTestFile(path);
}

/** The checks for `tree`, in a fixed order: JavaScript, Python, Go, Rust. */
export function detectCommands(tree: Tree): string[] {
  const out: string[] = [];
  const pkg = tree.get("package.json");
  if (pkg) {
    try {
      const scripts = (JSON.parse(pkg) as { scripts?: Record<string, unknown> }).scripts ?? {};
      if (typeof scripts.test === "string" && !NPM_PLACEHOLDER.test(scripts.test)) out.push("npm test --silent");
    } catch {
      // an unparseable package.json gets no npm command
    }
    if (tree.has("tsconfig.json")) out.push("npx --no-install tsc --noEmit");
  }
  if ([...tree.keys()].some((p) => p.endsWith(".py"))) out.push(usesPytest(tree) ? PYTEST : UNITTEST);
  if (tree.has("go.mod")) out.push("go vet ./...", "go test ./...");
  if (tree.has("Cargo.toml")) out.push("cargo test --offline");
  return out;
}
