import { describe, expect, it } from "vitest";
import { detectCommands, usesPytest } from "../../src/lib/sandbox/detect-checks";

const tree = (files: Record<string, string>): Map<string, string> => new Map(Object.entries(files));
const pyTest = "from calc import total\n\ndef test_total():\n    assert total([1, 2]) == 3\n";
const unittestTest = "import unittest\n\nclass T(unittest.TestCase):\n    def test_x(self):\n        pass\n";

describe("detectCommands reads the project's own test configuration", () => {
  it("picks pytest wherever a Python project configures or lists it", () => {
    const base = { "calc.py": "def total(xs):\n    return sum(xs)\n", "tests/check_calc.py": "x = 1\n" };
    const configured: Record<string, string>[] = [
      { "pyproject.toml": '[project]\nname = "calc"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n' },
      { "pyproject.toml": '[project]\nname = "calc"\n[project.optional-dependencies]\ntest = ["pytest>=7"]\n' },
      { "pyproject.toml": '[tool.poetry.group.dev.dependencies]\npytest = "^8.0"\n' },
      { "setup.cfg": "[metadata]\nname = calc\n\n[tool:pytest]\naddopts = -q\n" },
      { "tox.ini": "[tox]\nenvlist = py311\n\n[pytest]\ntestpaths = tests\n" },
      { "tox.ini": "[testenv]\ncommands = pytest {posargs}\n" },
      { "pytest.ini": "[pytest]\n" },
      { "tests/conftest.py": "" },
      { "requirements.txt": "requests==2.32.0\npytest==8.2.0\n" },
      { "requirements-dev.txt": "# tests\nPyTest>=7\n" },
      { "requirements/test.txt": "pytest\n" },
      { "tests/test_calc.py": pyTest },
    ];
    for (const extra of configured) {
      expect(detectCommands(tree({ ...base, ...extra })), JSON.stringify(extra)).toEqual(["python3 -m pytest -q"]);
    }
  });

  it("keeps unittest for a project that has no pytest anywhere", () => {
    const t = tree({ "calc.py": "x = 1\n", "test_calc.py": unittestTest, "requirements.txt": "requests\nmypytest-helpers\n" });
    expect(usesPytest(t)).toBe(false);
    expect(detectCommands(t)).toEqual(["python3 -m unittest discover -q"]);
    // A [pytest] section is a header on its own line, not the word in a comment or a value.
    expect(usesPytest(tree({ "x.py": "", "tox.ini": "[tox]\n# run [pytest] later\n" }))).toBe(false);
  });

  it("reads package.json scripts, ignores npm's placeholder, and adds every ecosystem present", () => {
    expect(detectCommands(tree({ "package.json": JSON.stringify({ scripts: { test: 'echo "Error: no test specified" && exit 1' } }) }))).toEqual([]);
    expect(
      detectCommands(
        tree({
          "package.json": JSON.stringify({ scripts: { test: "vitest run" } }),
          "tsconfig.json": "{}",
          "scripts/gen.py": "print(1)\n",
          "go.mod": "module x\n",
          "Cargo.toml": "[package]\n",
        }),
      ),
    ).toEqual([
      "npm test --silent",
      "npx --no-install tsc --noEmit",
      "python3 -m unittest discover -q",
      "go vet ./...",
      "go test ./...",
      "cargo test --offline",
    ]);
    expect(detectCommands(tree({ "package.json": "{not json" }))).toEqual([]);
  });
});
