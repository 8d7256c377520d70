/**
 * The package registries an install may reach: the runner's configuration names them, the egress proxy lets
 * through only their hosts, and the install commands are pointed at them through each tool's environment.
 */
import { z } from "zod";

export const ECOSYSTEMS = ["npm", "pypi", "go", "cargo"] as const;
export type Ecosystem = (typeof ECOSYSTEMS)[number];

/** One registry: the URL the tools are given, and every host (`name` or `name:port`) its downloads come from. */
export const Registry = z.object({ url: z.string().url(), hosts: z.array(z.string().min(1).max(255)).min(1).max(20) });
export type Registry = z.infer<typeof Registry>;
export const Registries = z.object({ npm: Registry, pypi: Registry, go: Registry, cargo: Registry }).partial();
export type Registries = z.infer<typeof Registries>;

/** The public registries, used when the runner is given none (`SANDBOX_REGISTRIES` replaces this whole list). */
export const DEFAULT_REGISTRIES: Registries = {
  // yarn classic fetches each package from the URL its yarn.lock records (it does not rewrite it to the
  // configured registry as npm does), and yarn writes the public registry as registry.yarnpkg.com.
  npm: { url: "https://registry.npmjs.org/", hosts: ["registry.npmjs.org", "registry.yarnpkg.com"] },
  // The index lists files; the files themselves come from files.pythonhosted.org.
  pypi: { url: "https://pypi.org/simple/", hosts: ["pypi.org", "files.pythonhosted.org"] },
  go: { url: "https://proxy.golang.org", hosts: ["proxy.golang.org"] },
  cargo: { url: "sparse+https://index.crates.io/", hosts: ["index.crates.io", "static.crates.io"] },
};

/** The registries in `json` (the `SANDBOX_REGISTRIES` setting), checked; a bad setting stops the runner at start. */
export function parseRegistries(json: string | undefined): Registries {
  if (!json) return DEFAULT_REGISTRIES;
  return Registries.parse(JSON.parse(json));
}

/**
 * Whether `host:port` is one the registries name. A bare host allows its standard ports (443 for CONNECT
 * tunnels, 80 for plain HTTP); `host:port` allows exactly that port. Names compare case-insensitively.
 */
export function isAllowedHost(registries: Registries, host: string, port: number): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  for (const r of Object.values(registries)) {
    for (const entry of r?.hosts ?? []) {
      const [name, p] = splitHostPort(entry.toLowerCase());
      if (name === h && (p === null ? port === 443 || port === 80 : p === port)) return true;
    }
  }
  return false;
}

/** The host names the registries name, each once (a `host:port` entry gives its host): an allow-list by name. */
export function registryHostnames(registries: Registries): string[] {
  return [...new Set(Object.values(registries).flatMap((r) => (r?.hosts ?? []).map((h) => splitHostPort(h.toLowerCase())[0])))];
}

function splitHostPort(entry: string): [string, number | null] {
  const m = /^(.*):(\d+)$/.exec(entry);
  return m?.[1] && m[2] ? [m[1], Number(m[2])] : [entry, null];
}

/**
 * The environment of an install command: every tool's proxy setting points at the forwarder inside the
 * sandbox (the only way out of its network namespace), its registry setting at the configured registry,
 * and, unless `allowScripts`, the settings that keep package scripts from running.
 */
export function installEnv(registries: Registries, proxyUrl: string, allowScripts: boolean): Record<string, string> {
  const env: Record<string, string> = {
    HTTP_PROXY: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    https_proxy: proxyUrl,
    npm_config_proxy: proxyUrl,
    npm_config_https_proxy: proxyUrl,
    npm_config_cache: "/tmp/.npm",
    npm_config_update_notifier: "false",
    npm_config_audit: "false",
    npm_config_fund: "false",
    PIP_PROXY: proxyUrl,
    PIP_CACHE_DIR: "/tmp/.pip",
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
    UV_CACHE_DIR: "/tmp/.uv",
    POETRY_CACHE_DIR: "/tmp/.poetry",
    POETRY_VIRTUALENVS_IN_PROJECT: "true",
    CARGO_HTTP_PROXY: proxyUrl,
    // go.sum pins every module; the checksum database would be one more host to allow for nothing.
    GOSUMDB: "off",
    GOFLAGS: "-mod=mod",
  };
  if (registries.npm) env.npm_config_registry = registries.npm.url;
  if (registries.pypi) {
    env.PIP_INDEX_URL = registries.pypi.url;
    env.UV_DEFAULT_INDEX = registries.pypi.url;
    // pip ignores a plain-HTTP index unless told to trust it: the operator named it, so it is.
    const index = new URL(registries.pypi.url);
    if (index.protocol === "http:") env.PIP_TRUSTED_HOST = index.host;
  }
  if (registries.go) env.GOPROXY = registries.go.url;
  if (registries.cargo) env.CARGO_REGISTRIES_CRATES_IO_PROTOCOL = "sparse";
  if (!allowScripts) {
    // npm, pnpm and yarn 1 read npm_config_ignore_scripts; yarn 2+ reads YARN_ENABLE_SCRIPTS.
    env.npm_config_ignore_scripts = "true";
    env.YARN_ENABLE_SCRIPTS = "false";
    // A source distribution runs its setup.py to build: wheels only.
    env.PIP_ONLY_BINARY = ":all:";
    env.UV_NO_BUILD = "1";
  }
  return env;
}

/** Where the dependency directories live in the sandbox and what the checks' environment says about them. */
export const DEPENDENCY_DIRS = { nodeModules: "/workspace/node_modules", venv: "/workspace/.venv", deps: "/deps" } as const;

/** Environment both phases share: the Go module cache and Cargo's home live in /deps. */
export const DEPENDENCY_ENV: Record<string, string> = {
  GOMODCACHE: "/deps/go/mod",
  GOCACHE: "/tmp/.go-build",
  CARGO_HOME: "/deps/cargo",
};
