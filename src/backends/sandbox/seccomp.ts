/**
 * The seccomp filter a sandbox bottle runs under (bwrap `--seccomp`), as classic BPF built here so no
 * compiler or library is needed. Why: a process keeps the session keyring of whoever started it, across
 * bwrap and a uid change, and a key in it is readable by anything that possesses the keyring. Run by root,
 * the agent read root's session keys (a Kerberos ticket, a `keyctl add … @s` secret) although it is an
 * unprivileged uid; an ordinary launcher's agent read that user's. Namespaces do not separate keyrings, so
 * the key syscalls (add_key, request_key, keyctl) fail with EPERM, as in docker's default profile and
 * Flatpak. TIOCSTI and TIOCLINUX (pushing input into a terminal) fail too: the agent never holds the
 * user's terminal (headless runs start a new session, interactive ones get their own pseudo-terminal), so
 * this only backs those up. Covers the x86_64 and aarch64 ABIs and the 32-bit ones a 64-bit process can
 * still enter (i386 via `int 0x80`, arm); x32 system calls are refused whole.
 */

const AUDIT_ARCH = { x86_64: 0xc000003e, i386: 0x40000003, aarch64: 0xc00000b7, arm: 0x40000028 } as const;
const X32_BIT = 0x40000000;

interface ArchCalls {
  arch: number;
  /** add_key, request_key, keyctl. */
  keys: number[];
  ioctl: number;
  /** x86_64 only: refuse every x32 call. */
  x32?: boolean;
}

const ARCHES: ArchCalls[] = [
  { arch: AUDIT_ARCH.x86_64, keys: [248, 249, 250], ioctl: 16, x32: true },
  { arch: AUDIT_ARCH.i386, keys: [286, 287, 288], ioctl: 54 },
  { arch: AUDIT_ARCH.aarch64, keys: [217, 218, 219], ioctl: 29 },
  { arch: AUDIT_ARCH.arm, keys: [309, 310, 311], ioctl: 54 },
];

/** ioctl requests that push input into a terminal. */
const TERMINAL_INJECT = [0x5412 /* TIOCSTI */, 0x541c /* TIOCLINUX */];

const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_EPERM = 0x00050000 | 1;
/** Offsets in struct seccomp_data: nr, arch, args[1] (its low 32 bits, little-endian). */
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARG1 = 24;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The filter's instructions, with jumps to the shared EPERM return at the end resolved. */
export function seccompProgram(): Insn[] {
  const prog: (Insn & { toDeny?: "jt" })[] = [];
  const op = (code: number, k: number, jt = 0, jf = 0, toDeny?: "jt") => prog.push({ code, k, jt, jf, ...(toDeny ? { toDeny } : {}) });
  op(LD_W_ABS, OFF_ARCH);
  for (const a of ARCHES) {
    // Length of this arch's block after its JEQ, so a mismatch skips it.
    const blockLen = 1 + (a.x32 ? 1 : 0) + a.keys.length + 1 + 1 + TERMINAL_INJECT.length + 1;
    op(JEQ_K, a.arch, 0, blockLen);
    op(LD_W_ABS, OFF_NR);
    if (a.x32) op(JGE_K, X32_BIT, 0, 0, "jt");
    for (const nr of a.keys) op(JEQ_K, nr, 0, 0, "jt");
    op(JEQ_K, a.ioctl, 0, 1 + TERMINAL_INJECT.length);
    op(LD_W_ABS, OFF_ARG1);
    for (const req of TERMINAL_INJECT) op(JEQ_K, req, 0, 0, "jt");
    op(RET_K, RET_ALLOW);
  }
  op(RET_K, RET_ALLOW);
  const deny = prog.length;
  op(RET_K, RET_EPERM);
  return prog.map(({ toDeny, ...i }, at) => (toDeny ? { ...i, jt: deny - at - 1 } : i));
}

/** The filter as bwrap reads it from a descriptor: struct sock_filter[] in the machine's byte order. */
export function seccompFilter(): Uint8Array {
  const prog = seccompProgram();
  const buf = new DataView(new ArrayBuffer(prog.length * 8));
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  prog.forEach((i, n) => {
    if (i.jt > 255 || i.jf > 255) throw new Error("seccomp filter: a jump is too long");
    buf.setUint16(n * 8, i.code, little);
    buf.setUint8(n * 8 + 2, i.jt);
    buf.setUint8(n * 8 + 3, i.jf);
    buf.setUint32(n * 8 + 4, i.k, little);
  });
  return new Uint8Array(buf.buffer);
}
