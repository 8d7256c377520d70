/** Which paths of a tree are left out: a default list, then the tree's own .gitignore files. */
import ignore, { type Ignore } from "ignore";

/** Directories and files no index wants: VCS data, dependencies, build output, caches, secrets. */
export const DEFAULT_IGNORES = [
  ".git/",
  ".hg/",
  ".svn/",
  "node_modules/",
  "bower_components/",
  "vendor/bundle/",
  ".venv/",
  "venv/",
  "__pycache__/",
  ".mypy_cache/",
  ".pytest_cache/",
  ".tox/",
  ".gradle/",
  ".idea/",
  ".vscode/",
  ".next/",
  ".nuxt/",
  ".turbo/",
  ".cache/",
  ".wrangler/",
  "dist/",
  "build/",
  "out/",
  "target/",
  "coverage/",
  ".DS_Store",
  "*.min.js.map",
  "*.map",
  ".env",
  ".env.*",
  ".dev.vars",
  "*.pem",
  "*.key",
  // Credentials by name: private keys, keystores, cloud and cluster credentials, Terraform variables.
  "id_rsa",
  "id_dsa",
  "id_ecdsa",
  "id_ed25519",
  "*.ppk",
  "*.p12",
  "*.pfx",
  "*.jks",
  "*.keystore",
  "*.tfvars",
  "*.tfvars.json",
  "*.tfstate",
  "*.tfstate.backup",
  "kubeconfig",
  "*.kubeconfig",
  "**/.kube/config",
  "**/.aws/credentials",
  "**/.docker/config.json",
  ".npmrc",
  ".pypirc",
  ".netrc",
  ".git-credentials",
  "credentials.json",
  "service-account*.json",
  ".htpasswd",
];

export type IgnoreRules = { isIgnored(path: string): boolean };

/** Rules from the default list plus every `.gitignore` given as (its directory, its text). */
export function buildIgnoreRules(gitignores: { dir: string; text: string }[]): IgnoreRules {
  const root = ignore().add(DEFAULT_IGNORES);
  // Each .gitignore applies to paths below its own directory, relative to it.
  const nested: { prefix: string; rules: Ignore }[] = gitignores
    .map((g) => ({ prefix: g.dir === "" ? "" : `${g.dir}/`, rules: ignore().add(g.text) }))
    .sort((a, b) => a.prefix.length - b.prefix.length);
  return {
    isIgnored(path: string): boolean {
      if (root.ignores(path)) return true;
      for (const n of nested) {
        if (path.startsWith(n.prefix) && n.rules.ignores(path.slice(n.prefix.length))) return true;
      }
      return false;
    },
  };
}
