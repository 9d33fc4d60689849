/**
 * The sandbox's seccomp filter, run through a small classic-BPF interpreter: the key syscalls and terminal
 * input injection are refused with EPERM on every ABI a 64-bit process can enter, and everything else is
 * allowed (tests/isolation/keyring.test.ts shows the filter loaded in a real bottle).
 */
import { describe, expect, test } from "bun:test";
import { seccompFilter, seccompProgram } from "../../src/backends/sandbox/seccomp.ts";

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;

/** Runs the program on one struct seccomp_data (nr, arch, args[1..3]). */
function verdict(nr: number, arch: number, arg1 = 0, arg2 = 0, arg3 = 0): number {
  const prog = seccompProgram();
  const data = new DataView(new ArrayBuffer(64));
  data.setInt32(0, nr, true);
  data.setUint32(4, arch, true);
  data.setUint32(24, arg1, true);
  data.setUint32(32, arg2, true);
  data.setUint32(40, arg3, true);
  let acc = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const i = prog[pc]!;
    if (i.code === 0x20) acc = data.getUint32(i.k, true);
    else if (i.code === 0x54) acc = (acc & i.k) >>> 0;
    else if (i.code === 0x15) pc += acc === i.k ? i.jt : i.jf;
    else if (i.code === 0x35) pc += acc >= i.k ? i.jt : i.jf;
    else if (i.code === 0x06) return i.k;
    else throw new Error(`unknown opcode ${i.code}`);
  }
  throw new Error("fell off the end");
}

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const AARCH64 = 0xc00000b7;
const ARM = 0x40000028;

describe("the sandbox's seccomp filter", () => {
  test("add_key, request_key and keyctl are refused on x86_64, i386, aarch64 and arm", () => {
    for (const [arch, nrs] of [[X86_64, [248, 249, 250]], [I386, [286, 287, 288]], [AARCH64, [217, 218, 219]], [ARM, [309, 310, 311]]] as const) {
      for (const nr of nrs) expect(verdict(nr, arch)).toBe(EPERM);
    }
  });

  test("TIOCSTI and TIOCLINUX are refused; other ioctls and other calls are allowed", () => {
    for (const [arch, ioctl] of [[X86_64, 16], [I386, 54], [AARCH64, 29], [ARM, 54]] as const) {
      expect(verdict(ioctl, arch, 0x5412)).toBe(EPERM);
      expect(verdict(ioctl, arch, 0x541c)).toBe(EPERM);
      expect(verdict(ioctl, arch, 0x5401)).toBe(ALLOW); // TCGETS
    }
    expect(verdict(0, X86_64)).toBe(ALLOW); // read
    expect(verdict(59, X86_64)).toBe(ALLOW); // execve
    expect(verdict(221, AARCH64)).toBe(ALLOW); // execve
    expect(verdict(250, AARCH64)).toBe(ALLOW); // not keyctl there
  });

  test("no call makes a file set-user-ID or set-group-ID; ordinary modes and opens that create nothing pass", () => {
    const O_CREAT = 0o100;
    const O_TMPFILE = 0o20000000 | 0o200000;
    // x86_64: chmod(path, mode), fchmod(fd, mode), fchmodat(dfd, path, mode), fchmodat2, creat, mknod(at), open(at).
    for (const [nr, modeArg] of [[90, 1], [91, 1], [268, 2], [452, 2], [85, 1], [133, 1], [259, 2]] as const) {
      const args = (mode: number) => [0, 0, 0].map((_, i) => (i + 1 === modeArg ? mode : 0)) as [number, number, number];
      expect(verdict(nr, X86_64, ...args(0o4755))).toBe(EPERM);
      expect(verdict(nr, X86_64, ...args(0o2755))).toBe(EPERM);
      expect(verdict(nr, X86_64, ...args(0o755))).toBe(ALLOW);
      expect(verdict(nr, X86_64, ...args(0o1777))).toBe(ALLOW);
    }
    expect(verdict(2, X86_64, O_CREAT, 0o4755)).toBe(EPERM); // open
    expect(verdict(257, X86_64, 0, O_CREAT | 1, 0o6755)).toBe(EPERM); // openat
    expect(verdict(257, X86_64, 0, O_TMPFILE, 0o4700)).toBe(EPERM);
    expect(verdict(257, X86_64, 0, O_CREAT, 0o644)).toBe(ALLOW);
    expect(verdict(257, X86_64, 0, 0, 0o4755)).toBe(ALLOW); // no O_CREAT: the mode is not used
    expect(verdict(2, X86_64, 0, 0o4755)).toBe(ALLOW);
    expect(verdict(437, X86_64)).toBe(EPERM); // openat2: its mode is in a struct
    for (const nr of [425, 426, 427]) for (const arch of [X86_64, I386, AARCH64, ARM]) expect(verdict(nr, arch)).toBe(EPERM); // io_uring
    expect(verdict(56, AARCH64, 0, O_CREAT, 0o4755)).toBe(EPERM);
    expect(verdict(53, AARCH64, 0, 0o2755)).toBe(EPERM); // fchmodat(dfd, path, mode)
    expect(verdict(52, AARCH64, 0o4755)).toBe(EPERM); // fchmod(fd, mode)
    expect(verdict(56, AARCH64, 0, O_CREAT, 0o755)).toBe(ALLOW);
    expect(verdict(295, I386, 0, O_CREAT, 0o4755)).toBe(EPERM);
    expect(verdict(15, ARM, 0o4755)).toBe(EPERM); // chmod(path, mode)
  });

  test("x32 calls are refused whole; the bytes are 8 per instruction", () => {
    expect(verdict(0x40000000 + 250, X86_64)).toBe(EPERM);
    expect(verdict(0x40000000 + 1, X86_64)).toBe(EPERM);
    expect(seccompFilter().length).toBe(seccompProgram().length * 8);
  });
});
