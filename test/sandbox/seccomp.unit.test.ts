/**
 * The seccomp program, run on a small classic-BPF interpreter over `struct seccomp_data`: what each system
 * call gets on each architecture. The integration tests show the kernel agrees (ptrace, unshare, mount fail).
 */
import { describe, expect, it } from "vitest";
import { BLOCKED_SYSCALLS, type SeccompArch, seccompProgram } from "../../src/lib/sandbox/runner/seccomp";

const ARCH = { x64: 0xc000003e, arm64: 0xc00000b7, i386: 0x40000003 } as const;
const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const KILL = 0x80000000;

/** Runs the program on one call: nr, arch and the low word of its first argument. */
function decide(program: Buffer, nr: number, arch: number, arg0 = 0): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(nr, 0);
  data.writeUInt32LE(arch, 4);
  data.writeUInt32LE(arg0 >>> 0, 16);
  let a = 0;
  for (let pc = 0; pc < program.length / 8; ) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) a = data.readUInt32LE(k);
    else if (code === 0x06) return k;
    else if (code === 0x15) pc += a === k ? jt : jf;
    else if (code === 0x35) pc += a >= k ? jt : jf;
    else if (code === 0x45) pc += (a & k) !== 0 ? jt : jf;
    else throw new Error(`unknown opcode ${code}`);
    pc++;
  }
  throw new Error("fell off the end of the program");
}

const numbers: Record<SeccompArch, Record<string, number>> = {
  x64: { read: 0, write: 1, openat: 257, execve: 59, ptrace: 101, mount: 165, unshare: 272, bpf: 321, keyctl: 250, kexec_load: 246, clone: 56, clone3: 435 },
  arm64: { read: 63, write: 64, openat: 56, execve: 221, ptrace: 117, mount: 40, unshare: 97, bpf: 280, keyctl: 219, kexec_load: 104, clone: 220, clone3: 435 },
};
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNET = 0x40000000;
// What glibc's fork and pthread_create pass: no namespace flag.
const FORK_FLAGS = 0x01200011;
const THREAD_FLAGS = 0x003d0f00;

describe.each(["x64", "arm64"] as const)("the seccomp program for %s", (arch) => {
  const program = seccompProgram(arch);
  const n = numbers[arch];

  it("allows what tests need", () => {
    for (const name of ["read", "write", "openat", "execve"]) expect(decide(program, n[name] ?? -1, ARCH[arch])).toBe(ALLOW);
    expect(decide(program, n.clone ?? -1, ARCH[arch], FORK_FLAGS)).toBe(ALLOW);
    expect(decide(program, n.clone ?? -1, ARCH[arch], THREAD_FLAGS)).toBe(ALLOW);
  });

  it("answers EPERM to ptrace, mount, kexec, bpf, keyctl, unshare and clone into a new namespace", () => {
    for (const name of ["ptrace", "mount", "kexec_load", "bpf", "keyctl", "unshare"]) expect(decide(program, n[name] ?? -1, ARCH[arch])).toBe(EPERM);
    expect(decide(program, n.clone ?? -1, ARCH[arch], CLONE_NEWUSER)).toBe(EPERM);
    expect(decide(program, n.clone ?? -1, ARCH[arch], FORK_FLAGS | CLONE_NEWNET)).toBe(EPERM);
    expect(BLOCKED_SYSCALLS).toEqual(expect.arrayContaining(["ptrace", "mount", "kexec_load", "kexec_file_load", "bpf", "keyctl", "unshare", "setns"]));
  });

  it("answers ENOSYS to clone3, whose flags it cannot read, so the C library falls back to clone", () => {
    expect(decide(program, n.clone3 ?? -1, ARCH[arch])).toBe(ENOSYS);
  });

  it("kills a call made under another architecture's ABI", () => {
    expect(decide(program, 0, ARCH.i386)).toBe(KILL);
    expect(decide(program, 0, arch === "x64" ? ARCH.arm64 : ARCH.x64)).toBe(KILL);
  });
});

it("refuses x32 system calls on x86_64", () => {
  expect(decide(seccompProgram("x64"), 0x40000000 + 0, ARCH.x64)).toBe(EPERM);
});
