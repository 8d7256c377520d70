/**
 * Archives made by the real tools users have — GNU tar (gnu, ustar, pax), bsdtar, `git archive` and
 * Info-ZIP's zip (with links, streamed with data descriptors, and zip64 past 65,535 entries), and a project with
 * an executable check and binary fixtures by GNU tar, git archive and zip — built in
 * Node before the workers pool starts, from one tree with the cases real repositories contain, and served
 * on loopback for the tests in workerd to read.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REAL_TOOL_ARCHIVES = [
  "gnu.tar.gz",
  "ustar.tar",
  "pax.tar.gz",
  "bsdtar-pax.tar.gz",
  "bsdtar-ustar.tar",
  "git-archive.tar.gz",
  "git-archive.zip",
  "info-zip.zip",
  "info-zip-streamed.zip",
  "zip64-70000.zip",
  "pax-sparse.tar.gz",
  "exec-gnu.tar.gz",
  "exec-git-archive.tar.gz",
  "exec-git-archive.zip",
  "exec-info-zip.zip",
] as const;
export type RealToolArchive = (typeof REAL_TOOL_ARCHIVES)[number];

const LONG = `${"nested-directory/".repeat(7)}a-file-name-long-enough-to-pass-one-hundred-bytes.py`;

/** The tree every tool archives (git archive takes only what git tracks: no FIFO, no hard link). */
function makeTree(root: string): void {
  const put = (path: string, content: string | Buffer): void => {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  put("src/app.py", "def main():\n    return 'ok'\n");
  put("src/café.ts", "export const café = 'crème';\n");
  put("tests/data_latin1.py", Buffer.from("# caf\xe9 au lait\n", "latin1"));
  put("docs/cite.txt", "Cite us.\n");
  put("empty.txt", "");
  put(LONG, "long = True\n");
  symlinkSync("docs/cite.txt", join(root, "CITATION"));
  symlinkSync("../../etc/passwd", join(root, "evil"));
}

/**
 * A project whose check is an executable script run directly (`./check.sh`, no `sh` in front) that verifies its
 * binary fixtures byte for byte: a PNG and a file of every byte value (NULs included), checked with `sha256sum -c`.
 */
function makeExecTree(root: string): void {
  const put = (path: string, content: string | Buffer, mode = 0o644): void => {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), content);
    chmodSync(join(root, path), mode);
  };
  const png = Buffer.from(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" + "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082",
    "hex",
  );
  const bin = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
  put("fixtures/pixel.png", png);
  put("fixtures/bytes.bin", bin);
  const sum = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
  put("fixtures/SHA256SUMS", `${sum(png)}  fixtures/pixel.png\n${sum(bin)}  fixtures/bytes.bin\n`);
  put("tools/greet.sh", '#!/bin/sh\necho "hello from $1"\n', 0o755);
  put("check.sh", "#!/bin/sh\nset -e\nsha256sum -c fixtures/SHA256SUMS\n./tools/greet.sh check\n", 0o755);
}

function run(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

export async function buildRealToolArchives(): Promise<{ url: string; close(): Promise<void> }> {
  const work = mkdtempSync(join(tmpdir(), "winky-real-archives-"));
  const tree = join(work, "tree");
  const out = join(work, "out");
  mkdirSync(tree);
  mkdirSync(out);
  makeTree(tree);
  // git archive reads the tree from a commit.
  run("git", ["init", "-q"], tree);
  run("git", ["-c", "user.name=t", "-c", "user.email=t@t", "add", "-A"], tree);
  run("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tree"], tree);
  run("git", ["archive", "--format=tar.gz", "-o", join(out, "git-archive.tar.gz"), "HEAD"], tree);
  run("git", ["archive", "--format=zip", "-o", join(out, "git-archive.zip"), "HEAD"], tree);
  // What only a working tree has: a hard link and a FIFO.
  execFileSync("ln", [join(tree, "src/app.py"), join(tree, "src/hard.py")]);
  execFileSync("mkfifo", [join(tree, "fifo")]);
  const entries = ["src", "tests", "docs", "empty.txt", "nested-directory", "CITATION", "evil", "fifo"];
  run("tar", ["--format=gnu", "-czf", join(out, "gnu.tar.gz"), ...entries], tree);
  run("tar", ["--format=pax", "-czf", join(out, "pax.tar.gz"), ...entries], tree);
  // ustar has no pax records: the over-long path and the non-ASCII name are left to the other formats.
  run("tar", ["--format=ustar", "-cf", join(out, "ustar.tar"), "src", "docs", "CITATION", "evil", "fifo"], tree);
  run("bsdtar", ["--format=pax", "-czf", join(out, "bsdtar-pax.tar.gz"), ...entries], tree);
  run("bsdtar", ["--format=ustar", "-cf", join(out, "bsdtar-ustar.tar"), "src", "docs", "CITATION", "evil", "fifo"], tree);
  // A file with holes, archived with --sparse: pax stores it under a made-up name with a map of its holes.
  const holes = join(work, "holes");
  mkdirSync(holes);
  writeFileSync(join(holes, "disk.img"), "head");
  execFileSync("truncate", ["-s", "2M", join(holes, "disk.img")]);
  writeFileSync(join(holes, "after.txt"), "after\n");
  run("tar", ["--format=pax", "--sparse", "-czf", join(out, "pax-sparse.tar.gz"), "disk.img", "after.txt"], holes);
  run("zip", ["-q", "-r", "--symlinks", join(out, "info-zip.zip"), "src", "tests", "docs", "empty.txt", "nested-directory", "CITATION", "evil"], tree);
  // Written to a pipe, zip cannot seek back, so every entry carries a data descriptor.
  const streamed = execFileSync("sh", ["-c", "zip -q -r - src docs | cat"], { cwd: tree, maxBuffer: 1 << 26 });
  writeFileSync(join(out, "info-zip-streamed.zip"), streamed);
  // 70,000 entries forces zip64's end records.
  const many = join(work, "many");
  mkdirSync(many);
  for (let d = 0; d < 70; d++) {
    mkdirSync(join(many, `d${d}`));
    for (let f = 0; f < 1000; f++) writeFileSync(join(many, `d${d}`, `f${f}.txt`), `${d}-${f}\n`);
  }
  run("sh", ["-c", `zip -q -r -0 ${join(out, "zip64-70000.zip")} d* > /dev/null`], many);
  // The executable project, by GNU tar, git archive (tar.gz and zip: git records 100755) and Info-ZIP.
  const exec = join(work, "exec");
  mkdirSync(exec);
  makeExecTree(exec);
  run("tar", ["--format=gnu", "-czf", join(out, "exec-gnu.tar.gz"), "check.sh", "tools", "fixtures"], exec);
  run("zip", ["-q", "-r", join(out, "exec-info-zip.zip"), "check.sh", "tools", "fixtures"], exec);
  run("git", ["init", "-q"], exec);
  run("git", ["-c", "user.name=t", "-c", "user.email=t@t", "add", "-A"], exec);
  run("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "exec"], exec);
  run("git", ["archive", "--format=tar.gz", "-o", join(out, "exec-git-archive.tar.gz"), "HEAD"], exec);
  run("git", ["archive", "--format=zip", "-o", join(out, "exec-git-archive.zip"), "HEAD"], exec);

  const server: Server = createServer((req, res) => {
    const name = (req.url ?? "").slice(1) as RealToolArchive;
    if (!REAL_TOOL_ARCHIVES.includes(name)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(readFileSync(join(out, name)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      await new Promise((r) => server.close(r));
      rmSync(work, { recursive: true, force: true });
    },
  };
}

export { LONG as LONG_PATH };
