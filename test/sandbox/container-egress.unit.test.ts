/**
 * The container's install phase reaches the registries through the platform's outbound allow-list: set to the
 * registries' hosts for the install only, and emptied before anything else runs, however the install ends.
 */
import { describe, expect, it } from "vitest";
import { withInstallEgress } from "../../src/lib/sandbox/container-sandbox";
import { DEFAULT_REGISTRIES, parseRegistries, registryHostnames } from "../../src/lib/sandbox/runner/registries";

function recordingBox() {
  const log: string[] = [];
  return { log, box: { setAllowedHosts: async (hosts: string[]) => void log.push(`allow [${hosts.join(",")}]`) } };
}

describe("the container's install egress", () => {
  it("opens the registries' hosts for the install and closes them before the checks", async () => {
    const { log, box } = recordingBox();
    const out = await withInstallEgress(box, ["registry.npmjs.org"], async () => {
      log.push("npm ci");
      return 7;
    });
    expect(out).toBe(7);
    expect(log).toEqual(["allow [registry.npmjs.org]", "npm ci", "allow []"]);
  });

  it("closes them when the install fails or is cancelled", async () => {
    const { log, box } = recordingBox();
    await expect(
      withInstallEgress(box, ["pypi.org"], async () => {
        throw new Error("the box was destroyed");
      }),
    ).rejects.toThrow("the box was destroyed");
    expect(log).toEqual(["allow [pypi.org]", "allow []"]);
  });

  it("allows the registries' host names, each once, ports dropped", () => {
    expect(registryHostnames(DEFAULT_REGISTRIES)).toEqual([
      "registry.npmjs.org",
      "registry.yarnpkg.com",
      "pypi.org",
      "files.pythonhosted.org",
      "proxy.golang.org",
      "index.crates.io",
      "static.crates.io",
    ]);
    const own = parseRegistries(JSON.stringify({ npm: { url: "https://npm.internal:8443/", hosts: ["NPM.internal:8443", "npm.internal"] } }));
    expect(registryHostnames(own)).toEqual(["npm.internal"]);
  });
});
