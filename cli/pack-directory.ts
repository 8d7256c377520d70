/** Packs a local directory as a .tar.gz the way the server will see it: ignore rules applied, links left out. */
import { lstat, readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { gzipSync } from "node:zlib";
import { type TarFile, writeTar } from "../src/lib/archive";
import { buildIgnoreRules } from "../src/lib/chunker";

export type Packed = { archive: Buffer; files: number; bytes: number; skippedLinks: string[] };

export async function packDirectory(root: string): Promise<Packed> {
  const gitignores: { dir: string; text: string }[] = [];
  const files: TarFile[] = [];
  const skippedLinks: string[] = [];
  let bytes = 0;
  const walk = async (dir: string): Promise<void> => {
    const rel = relative(root, dir).split(sep).join("/");
    const names = (await readdir(dir)).sort();
    if (names.includes(".gitignore")) gitignores.push({ dir: rel, text: await readFile(join(dir, ".gitignore"), "utf8") });
    const rules = buildIgnoreRules(gitignores);
    for (const name of names) {
      const full = join(dir, name);
      const path = rel ? `${rel}/${name}` : name;
      const info = await lstat(full);
      if (info.isSymbolicLink()) {
        skippedLinks.push(path);
        continue;
      }
      if (info.isDirectory()) {
        if (!rules.isIgnored(`${path}/`)) await walk(full);
      } else if (info.isFile() && !rules.isIgnored(path)) {
        const content = new Uint8Array(await readFile(full));
        bytes += content.byteLength;
        files.push({ path, bytes: content });
      }
    }
  };
  await walk(root);
  return { archive: gzipSync(writeTar(files)), files: files.length, bytes, skippedLinks };
}
