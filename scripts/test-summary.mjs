// Prints vitest's results (the workerd integration and unit suites and the CLI suite) as one plain closing line ("N passed, N failed"), which CI reads.
import { existsSync, readFileSync } from "node:fs";

const files = [".vitest/results.json", ".vitest/unit-results.json", ".vitest/cli-results.json"].filter((f) => existsSync(f));
let passed = 0;
let failed = 0;
let skipped = 0;
for (const f of files) {
  const r = JSON.parse(readFileSync(f, "utf8"));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
