/**
 * The seccomp filter a sandbox bottle runs under (bwrap `--seccomp`), as classic BPF built here so no
 * compiler or library is needed. Why: a process keeps the session keyring of whoever started it, across
 * bwrap and a uid change, and a key in it is readable by anything that possesses the keyring. Run by root,
 * the agent read root's session keys (a Kerberos ticket, a `keyctl add … @s` secret) although it is an
 * unprivileged uid; an ordinary launcher's agent read that user's. Namespaces do not separate keyrings, so
 * the key syscalls (add_key, request_key, keyctl) fail with EPERM, as in docker's default profile and
 * Flatpak. TIOCSTI and TIOCLINUX (pushing input into a terminal) fail too: the agent never holds the
 * user's terminal (headless runs start a new session, interactive ones get their own pseudo-terminal), so
 * this only backs those up. And no file the agent makes can be set-user-ID or set-group-ID: such a file in
 * the workspace outlives the run with the launcher's uid (or, for root, the agent's until teardown), and
 * any other local user who runs it becomes that uid; chmod, the open family when it creates, and mknod are
 * refused when they ask for those bits (openat2 and io_uring, whose modes a filter cannot read, are refused
 * whole; callers such as libuv fall back to openat and a thread pool, and docker's profile refuses io_uring too). Covers the x86_64 and aarch64 ABIs and the 32-bit ones a 64-bit process can
 * still enter (i386 via `int 0x80`, arm); x32 system calls are refused whole.
 */

const AUDIT_ARCH = { x86_64: 0xc000003e, i386: 0x40000003, aarch64: 0xc00000b7, arm: 0x40000028 } as const;
const X32_BIT = 0x40000000;

/**
 * A call refused only when its mode argument asks for the set-user-ID or set-group-ID bit (and, for the
 * open family, only when it creates a file: O_CREAT or O_TMPFILE in its flags argument).
 */
interface ModeCall {
  nr: number;
  mode: number;
  flags?: number;
}

interface ArchCalls {
  arch: number;
  /** Refused whole: add_key, request_key, keyctl; openat2 and io_uring (their modes are out of a filter's reach). */
  deny: number[];
  ioctl: number;
  modes: ModeCall[];
  /** x86_64 only: refuse every x32 call. */
  x32?: boolean;
}

const OPENAT2 = 437;
/** io_uring_setup, io_uring_enter, io_uring_register: its open operations take a mode no filter sees. */
const IO_URING = [425, 426, 427];
const FCHMODAT2 = 452;

const ARCHES: ArchCalls[] = [
  {
    arch: AUDIT_ARCH.x86_64,
    deny: [248, 249, 250, OPENAT2, ...IO_URING],
    ioctl: 16,
    x32: true,
    // open, creat, chmod, fchmod, mknod, openat, mknodat, fchmodat, fchmodat2
    modes: [{ nr: 2, mode: 2, flags: 1 }, { nr: 85, mode: 1 }, { nr: 90, mode: 1 }, { nr: 91, mode: 1 }, { nr: 133, mode: 1 }, { nr: 257, mode: 3, flags: 2 }, { nr: 259, mode: 2 }, { nr: 268, mode: 2 }, { nr: FCHMODAT2, mode: 2 }],
  },
  {
    arch: AUDIT_ARCH.i386,
    deny: [286, 287, 288, OPENAT2, ...IO_URING],
    ioctl: 54,
    modes: [{ nr: 5, mode: 2, flags: 1 }, { nr: 8, mode: 1 }, { nr: 15, mode: 1 }, { nr: 94, mode: 1 }, { nr: 14, mode: 1 }, { nr: 295, mode: 3, flags: 2 }, { nr: 297, mode: 2 }, { nr: 306, mode: 2 }, { nr: FCHMODAT2, mode: 2 }],
  },
  {
    arch: AUDIT_ARCH.aarch64,
    deny: [217, 218, 219, OPENAT2, ...IO_URING],
    ioctl: 29,
    // fchmod, fchmodat, mknodat, openat, fchmodat2 (no legacy open/creat/chmod/mknod)
    modes: [{ nr: 52, mode: 1 }, { nr: 53, mode: 2 }, { nr: 33, mode: 2 }, { nr: 56, mode: 3, flags: 2 }, { nr: FCHMODAT2, mode: 2 }],
  },
  {
    arch: AUDIT_ARCH.arm,
    deny: [309, 310, 311, OPENAT2, ...IO_URING],
    ioctl: 54,
    modes: [{ nr: 5, mode: 2, flags: 1 }, { nr: 8, mode: 1 }, { nr: 15, mode: 1 }, { nr: 94, mode: 1 }, { nr: 14, mode: 1 }, { nr: 322, mode: 3, flags: 2 }, { nr: 324, mode: 2 }, { nr: 333, mode: 2 }, { nr: FCHMODAT2, mode: 2 }],
  },
];

/** ioctl requests that push input into a terminal. */
const TERMINAL_INJECT = [0x5412 /* TIOCSTI */, 0x541c /* TIOCLINUX */];
/** S_ISUID | S_ISGID. */
const SET_ID_BITS = 0o6000;
/** O_CREAT | __O_TMPFILE (the same values on every ABI above). */
const CREATES = 0o100 | 0o20000000;

const LD_W_ABS = 0x20;
const ALU_AND_K = 0x54;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_EPERM = 0x00050000 | 1;
/** Offsets in struct seccomp_data: nr, arch, and the low 32 bits of args[i] (little-endian). */
const OFF_NR = 0;
const OFF_ARCH = 4;
const argOff = (i: number) => 16 + 8 * i;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

type Pending = Insn & { toDeny?: "jt" | "jf" };

/** One arch's checks after its system call number is loaded; each ends in RET ALLOW or jumps to deny. */
function archBody(a: ArchCalls): Insn[] {
  const out: Pending[] = [];
  const op = (code: number, k: number, jt = 0, jf = 0, toDeny?: "jt" | "jf") => out.push({ code, k, jt, jf, ...(toDeny ? { toDeny } : {}) });
  if (a.x32) op(JGE_K, X32_BIT, 0, 0, "jt");
  for (const nr of a.deny) op(JEQ_K, nr, 0, 0, "jt");
  const guarded: { nr: number; body: Pending[] }[] = [];
  const ioctl: Pending[] = [{ code: LD_W_ABS, k: argOff(1), jt: 0, jf: 0 }, ...TERMINAL_INJECT.map((req): Pending => ({ code: JEQ_K, k: req, jt: 0, jf: 0, toDeny: "jt" })), { code: RET_K, k: RET_ALLOW, jt: 0, jf: 0 }];
  guarded.push({ nr: a.ioctl, body: ioctl });
  for (const m of a.modes) {
    const body: Pending[] = [];
    if (m.flags !== undefined) {
      body.push({ code: LD_W_ABS, k: argOff(m.flags), jt: 0, jf: 0 }, { code: ALU_AND_K, k: CREATES, jt: 0, jf: 0 }, { code: JEQ_K, k: 0, jt: 3, jf: 0 });
    }
    body.push({ code: LD_W_ABS, k: argOff(m.mode), jt: 0, jf: 0 }, { code: ALU_AND_K, k: SET_ID_BITS, jt: 0, jf: 0 }, { code: JEQ_K, k: 0, jt: 0, jf: 0, toDeny: "jf" }, { code: RET_K, k: RET_ALLOW, jt: 0, jf: 0 });
    guarded.push({ nr: m.nr, body });
  }
  for (const g of guarded) {
    op(JEQ_K, g.nr, 0, g.body.length);
    out.push(...g.body);
  }
  op(RET_K, RET_ALLOW);
  // Each block has its own EPERM return, so no jump is longer than a block (a jump is one byte).
  const deny = out.length;
  op(RET_K, RET_EPERM);
  return out.map(({ toDeny, ...i }, at) => (toDeny ? { ...i, [toDeny]: deny - at - 1 } : i));
}

/** The filter's instructions: per ABI, its number checks and its own EPERM return; unknown ABIs are allowed. */
export function seccompProgram(): Insn[] {
  const prog: Insn[] = [{ code: LD_W_ABS, k: OFF_ARCH, jt: 0, jf: 0 }];
  for (const a of ARCHES) {
    const body = archBody(a);
    // A mismatch skips this arch's block: the LD of its number and its body.
    prog.push({ code: JEQ_K, k: a.arch, jt: 0, jf: 1 + body.length }, { code: LD_W_ABS, k: OFF_NR, jt: 0, jf: 0 }, ...body);
  }
  prog.push({ code: RET_K, k: RET_ALLOW, jt: 0, jf: 0 });
  return prog;
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
