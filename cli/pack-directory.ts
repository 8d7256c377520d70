/**
 * Packs a local directory as a .tar.gz written to a temporary file, streaming (the tree is never held in
 * memory): the same ignore rules as the server, symbolic links kept as links for the server to judge.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, mkdtemp, readdir, readFile, readlink, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { createTarPacker } from "modern-tar";
import { buildIgnoreRules } from "../src/lib/chunker/ignore-rules";

export type Packed = { path: string; compressedBytes: number; files: number; links: number; bytes: number };

export async function packDirectory(root: string): Promise<Packed> {
  const out = join(await mkdtemp(join(tmpdir(), "winky-")), "upload.tar.gz");
  const { readable, controller } = createTarPacker();
  const written = pipeline(Readable.fromWeb(readable as import("node:stream/web").ReadableStream), createGzip(), createWriteStream(out));
  const gitignores: { dir: string; text: string }[] = [];
  let files = 0;
  let links = 0;
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
        if (rules.isIgnored(path)) continue;
        // Each entry's stream must be closed before the next is added, even a link's empty one.
        await controller.add({ name: path, type: "symlink", linkname: await readlink(full), size: 0 }).close();
        links++;
      } else if (info.isDirectory()) {
        if (!rules.isIgnored(`${path}/`)) await walk(full);
      } else if (info.isFile() && !rules.isIgnored(path)) {
        const body = controller.add({ name: path, size: info.size, mode: info.mode & 0o777, mtime: info.mtime });
        await (Readable.toWeb(createReadStream(full)) as ReadableStream<Uint8Array>).pipeTo(body);
        bytes += info.size;
        files++;
      }
    }
  };
  await walk(root);
  controller.finalize();
  await written;
  return { path: out, compressedBytes: (await stat(out)).size, files, links, bytes };
}
