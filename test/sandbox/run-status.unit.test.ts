import { describe, expect, it } from "vitest";
import { ranNoTests, runStatus } from "../../src/lib/sandbox/run-status";

const r = (exitCode: number | null, stdout: string, stderr = "") => ({ exitCode, stdout, stderr });

// Each runner's real summary when it collected nothing (captured from the runners' own output).
const collectedNothing = {
  pytest: r(5, "\nno tests ran in 0.01s\n"),
  pytestVerbose: r(
    5,
    "============================= test session starts ==============================\ncollected 0 items\n\n============================ no tests ran in 0.00s =============================\n",
  ),
  unittest311: r(0, "", "\n----------------------------------------------------------------------\nRan 0 tests in 0.000s\n\nOK\n"),
  unittest312: r(5, "", "\n----------------------------------------------------------------------\nRan 0 tests in 0.000s\n\nNO TESTS RAN\n"),
  go: r(0, "?   \texample.com/calc\t[no test files]\n?   \texample.com/calc/cmd\t[no test files]\n"),
  goFiltered: r(0, "ok  \texample.com/calc\t0.002s [no tests to run]\n"),
  cargo: r(
    0,
    "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\n",
    "   Doc-tests calc\n\nrunning 0 tests\n",
  ),
  jest: r(1, "", "No tests found, exiting with code 1\nRun with `--passWithNoTests` to exit with code 0\n"),
  jestPassWithNoTests: r(0, "", "No tests found, exiting with code 0\n"),
  vitest: r(1, "", "No test files found, exiting with code 1\n"),
  mocha: r(0, "\n\n  0 passing (1ms)\n\n"),
  nodeTest: r(0, "ℹ tests 0\nℹ suites 0\nℹ pass 0\nℹ fail 0\n"),
};

const ranSome = {
  pytest: r(0, "..                                                                       [100%]\n2 passed in 0.01s\n"),
  unittest: r(0, "", "..\n----------------------------------------------------------------------\nRan 2 tests in 0.000s\n\nOK\n"),
  go: r(0, "ok  \texample.com/calc\t0.002s\n?   \texample.com/calc/cmd\t[no test files]\n"),
  cargo: r(0, "\nrunning 3 tests\n...\ntest result: ok. 3 passed; 0 failed\n\n   Doc-tests calc\n\nrunning 0 tests\n"),
  mocha: r(0, "\n  10 passing (4ms)\n"),
  plain: r(0, "ok\n"),
};

describe("ranNoTests", () => {
  it("recognises every runner's 'collected nothing', whatever it exits with", () => {
    for (const [runner, result] of Object.entries(collectedNothing)) expect(ranNoTests(result), runner).toBe(true);
  });

  it("does not mistake runs that ran tests, or a command that is not a test runner", () => {
    for (const [runner, result] of Object.entries(ranSome)) expect(ranNoTests(result), runner).toBe(false);
  });

  it("a failing run is a failure even when its output mentions no tests", () => {
    expect(ranNoTests(r(1, "FAILED test_calc.py::test_total - assert 0 == 3\n1 failed in 0.02s\n"))).toBe(false);
    expect(ranNoTests(r(2, "no tests ran in 0.01s\n"))).toBe(false);
    expect(ranNoTests(r(null, "Ran 0 tests in 0.000s\n"))).toBe(false);
  });
});

describe("runStatus", () => {
  it("failed beats no_tests, and no_tests beats passed", () => {
    expect(runStatus([ranSome.pytest, ranSome.plain])).toBe("passed");
    expect(runStatus([ranSome.plain, collectedNothing.unittest311])).toBe("no_tests");
    expect(runStatus([collectedNothing.pytest])).toBe("no_tests");
    expect(runStatus([collectedNothing.pytest, r(1, "", "boom")])).toBe("failed");
    expect(runStatus([r(null, "")])).toBe("failed");
  });
});
