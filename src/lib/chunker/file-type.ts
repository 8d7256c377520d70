/** Classifies a path as code, doc or config (conversation and log chunks are typed by their route). */
export type ChunkType = "code" | "doc" | "config" | "conversation" | "log";

const DOC = new Set("md mdx markdown rst txt adoc asciidoc org tex".split(" "));
const CONFIG = new Set(
  "json jsonc json5 yaml yml toml ini cfg conf env properties xml plist lock gradle editorconfig gitignore gitattributes dockerignore npmrc nvmrc".split(" "),
);
const CONFIG_NAMES = new Set(
  "dockerfile makefile procfile gemfile rakefile cmakelists.txt package.json tsconfig.json wrangler.toml cargo.toml go.mod go.sum pyproject.toml requirements.txt".split(
    " ",
  ),
);
const DOC_NAMES = new Set("readme license licence changelog contributing authors notice copying".split(" "));

export function fileType(path: string): ChunkType {
  const name = (path.split("/").pop() ?? path).toLowerCase();
  if (CONFIG_NAMES.has(name)) return "config";
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return DOC_NAMES.has(name) ? "doc" : name.startsWith(".") && CONFIG.has(name.slice(1)) ? "config" : "code";
  const ext = name.slice(dot + 1);
  if (DOC.has(ext)) return "doc";
  if (CONFIG.has(ext) || name.startsWith(".env")) return "config";
  return "code";
}
