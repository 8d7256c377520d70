/**
 * The seccomp filter every sandboxed command runs under: a classic-BPF program (what `bwrap --seccomp FD`
 * loads) that answers EPERM to system calls tests never need — tracing other processes, mounting, loading
 * kernels, modules or BPF programs, the kernel keyring, new namespaces — and allows the rest. Built here for
 * x86_64 and aarch64; a call made under another ABI (32-bit x86 on x86_64, x32) is refused whole.
 */

// linux/audit.h
const AUDIT_ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 } as const;
export type SeccompArch = keyof typeof AUDIT_ARCH;

// The blocked calls by name, with their numbers per architecture (arch/x86/entry/syscalls/syscall_64.tbl,
// include/uapi/asm-generic/unistd.h for aarch64).
const BLOCKED: Record<string, Record<SeccompArch, number>> = {
  ptrace: { x64: 101, arm64: 117 },
  process_vm_readv: { x64: 310, arm64: 270 },
  process_vm_writev: { x64: 311, arm64: 271 },
  mount: { x64: 165, arm64: 40 },
  umount2: { x64: 166, arm64: 39 },
  pivot_root: { x64: 155, arm64: 41 },
  open_tree: { x64: 428, arm64: 428 },
  move_mount: { x64: 429, arm64: 429 },
  fsopen: { x64: 430, arm64: 430 },
  fsconfig: { x64: 431, arm64: 431 },
  fsmount: { x64: 432, arm64: 432 },
  fspick: { x64: 433, arm64: 433 },
  mount_setattr: { x64: 442, arm64: 442 },
  kexec_load: { x64: 246, arm64: 104 },
  kexec_file_load: { x64: 320, arm64: 294 },
  init_module: { x64: 175, arm64: 105 },
  finit_module: { x64: 313, arm64: 273 },
  delete_module: { x64: 176, arm64: 106 },
  bpf: { x64: 321, arm64: 280 },
  perf_event_open: { x64: 298, arm64: 241 },
  userfaultfd: { x64: 323, arm64: 282 },
  keyctl: { x64: 250, arm64: 219 },
  add_key: { x64: 248, arm64: 217 },
  request_key: { x64: 249, arm64: 218 },
  unshare: { x64: 272, arm64: 97 },
  setns: { x64: 308, arm64: 268 },
};
export const BLOCKED_SYSCALLS = Object.keys(BLOCKED);

const CLONE = { x64: 56, arm64: 220 } as const;
// clone3 passes its flags in memory the filter cannot read: ENOSYS makes the C libraries fall back to clone.
const CLONE3 = { x64: 435, arm64: 435 } as const;
// CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME (linux/sched.h)
const CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080;
// x32 system calls on x86_64 have this bit set in their number.
const X32_BIT = 0x40000000;

const EPERM = 1;
const ENOSYS = 38;
const RET_ALLOW = 0x7fff0000;
const retErrno = (errno: number): number => 0x00050000 | errno;
const RET_KILL_PROCESS = 0x80000000;

// struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6] (little-endian on both).
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const OFFSET_ARG0_LOW = 16;

// Classic BPF opcodes (linux/filter.h).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

type Insn = { code: number; jt: number; jf: number; k: number };
const stmt = (code: number, k: number): Insn => ({ code, jt: 0, jf: 0, k });
const jump = (code: number, k: number, jt: number, jf: number): Insn => ({ code, jt, jf, k });

/** The machine's architecture as seccomp names it, or null where no filter is built (the runner then runs without one). */
export function seccompArch(arch: string = process.arch): SeccompArch | null {
  return arch === "x64" || arch === "arm64" ? arch : null;
}

/** The filter for `arch`, as the bytes of a `struct sock_filter[]` (8 bytes per instruction, little-endian). */
export function seccompProgram(arch: SeccompArch): Buffer {
  const numbers = Object.values(BLOCKED).map((n) => n[arch]);
  // Layout: arch check, load nr, [x32 check], one JEQ per blocked call (→ EPERM), clone3 (→ ENOSYS),
  // clone (→ flag test), ALLOW, then the shared return blocks.
  const prog: Insn[] = [];
  prog.push(stmt(LD_W_ABS, OFFSET_ARCH));
  prog.push(jump(JEQ_K, AUDIT_ARCH[arch], 1, 0));
  prog.push(stmt(RET_K, RET_KILL_PROCESS));
  prog.push(stmt(LD_W_ABS, OFFSET_NR));
  const tail: { at: number; to: "eperm" | "enosys" | "clone" | "allow" }[] = [];
  if (arch === "x64") {
    tail.push({ at: prog.length, to: "eperm" });
    prog.push(jump(JGE_K, X32_BIT, 0, 0));
  }
  for (const n of numbers) {
    tail.push({ at: prog.length, to: "eperm" });
    prog.push(jump(JEQ_K, n, 0, 0));
  }
  tail.push({ at: prog.length, to: "enosys" });
  prog.push(jump(JEQ_K, CLONE3[arch], 0, 0));
  tail.push({ at: prog.length, to: "clone" });
  prog.push(jump(JEQ_K, CLONE[arch], 0, 0));
  const allow = prog.length;
  prog.push(stmt(RET_K, RET_ALLOW));
  const eperm = prog.length;
  prog.push(stmt(RET_K, retErrno(EPERM)));
  const enosys = prog.length;
  prog.push(stmt(RET_K, retErrno(ENOSYS)));
  // clone: refuse any namespace flag in its first argument's low word (the flags, on both architectures).
  const clone = prog.length;
  prog.push(stmt(LD_W_ABS, OFFSET_ARG0_LOW));
  prog.push(jump(JSET_K, CLONE_NAMESPACES, 0, 1));
  prog.push(stmt(RET_K, retErrno(EPERM)));
  prog.push(stmt(RET_K, RET_ALLOW));
  const targets = { eperm, enosys, clone, allow };
  for (const t of tail) {
    const insn = prog[t.at];
    if (!insn) continue;
    // A jump's offsets count from the next instruction; only forward jumps exist in classic BPF.
    insn.jt = targets[t.to] - (t.at + 1);
    if (insn.jt > 255) throw new Error("seccomp program too long for an 8-bit jump");
  }
  const out = Buffer.alloc(prog.length * 8);
  prog.forEach((insn, i) => {
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(insn.jt, i * 8 + 2);
    out.writeUInt8(insn.jf, i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}
