import { describe, expect, it } from "vitest";
import { DEFAULT_REGISTRIES, isAllowedHost } from "../../src/lib/sandbox/runner/registries";

describe("the default registries", () => {
  it("let a yarn classic lockfile's downloads through: yarn fetches from registry.yarnpkg.com, the URL yarn.lock records", () => {
    expect(isAllowedHost(DEFAULT_REGISTRIES, "registry.yarnpkg.com", 443)).toBe(true);
    expect(isAllowedHost(DEFAULT_REGISTRIES, "registry.npmjs.org", 443)).toBe(true);
  });

  it("refuse any other host, and a named host on a port it does not serve", () => {
    expect(isAllowedHost(DEFAULT_REGISTRIES, "example.com", 443)).toBe(false);
    expect(isAllowedHost(DEFAULT_REGISTRIES, "registry.yarnpkg.com", 22)).toBe(false);
  });
});
