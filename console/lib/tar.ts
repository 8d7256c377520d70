/**
 * Packs a chosen or dropped folder into a POSIX tar (ustar, with a PAX header for paths over 100 bytes)
 * in the browser, so a folder is ingested like an archive. Dependency and VCS folders are left out.
 */
export type FolderFile = { path: string; file: Blob };

// What a repository's own .gitignore almost always leaves out; sending it would only be skipped server-side.
const SKIPPED_DIRS = new Set([".git", "node_modules", ".wrangler", ".DS_Store"]);

export function isPacked(path: string): boolean {
  return !path.split("/").some((part) => SKIPPED_DIRS.has(part));
}

const encoder = new TextEncoder();

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, "0")}\0`;
}

function header(name: string, size: number, type: "0" | "x", prefix = ""): Uint8Array {
  const h = new Uint8Array(512);
  const put = (text: string, at: number, width: number) => h.set(encoder.encode(text).subarray(0, width), at);
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put("        ", 148, 8);
  put(type, 156, 1);
  put("ustar\u000000", 257, 8);
  put(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return h;
}

/** A PAX record "<len> path=<path>\n", whose length counts its own digits. */
function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`;
  const bodyBytes = encoder.encode(body).length;
  let len = bodyBytes + 1;
  while (String(len).length + bodyBytes !== len) len++;
  return encoder.encode(`${len}${body}`);
}

const padding = (size: number): Uint8Array => new Uint8Array((512 - (size % 512)) % 512);

/** The files as one tar Blob (built from the files' own Blobs, so nothing is read into memory twice). */
export function packTar(files: FolderFile[]): Blob {
  const parts: BlobPart[] = [];
  for (const { path, file } of files) {
    if (encoder.encode(path).length > 100) {
      const pax = paxRecord("path", path);
      parts.push(header("PaxHeader", pax.length, "x") as BlobPart, pax as BlobPart, padding(pax.length) as BlobPart);
    }
    parts.push(header(path, file.size, "0") as BlobPart, file, padding(file.size) as BlobPart);
  }
  parts.push(new Uint8Array(1024) as BlobPart);
  return new Blob(parts, { type: "application/x-tar" });
}

/** Files of an `<input webkitdirectory>` choice, paths relative to the chosen folder. */
export function filesOfInput(list: FileList): FolderFile[] {
  return [...list].map((file) => ({ path: file.webkitRelativePath.split("/").slice(1).join("/") || file.name, file })).filter((f) => isPacked(f.path));
}

/** Files under a dropped folder entry, paths relative to it. */
export async function filesOfEntry(root: FileSystemDirectoryEntry): Promise<FolderFile[]> {
  const out: FolderFile[] = [];
  const walk = async (dir: FileSystemDirectoryEntry, prefix: string): Promise<void> => {
    const reader = dir.createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) return;
      for (const entry of batch) {
        const path = `${prefix}${entry.name}`;
        if (!isPacked(path)) continue;
        if (entry.isDirectory) await walk(entry as FileSystemDirectoryEntry, `${path}/`);
        else out.push({ path, file: await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)) });
      }
    }
  };
  await walk(root, "");
  return out;
}
