/**
 * The sandbox's seccomp filter, run through a small classic-BPF interpreter: the key syscalls and terminal
 * input injection are refused with EPERM on every ABI a 64-bit process can enter, and everything else is
 * allowed (tests/isolation/keyring.test.ts shows the filter loaded in a real bottle).
 */
import { describe, expect, test } from "bun:test";
import { seccompFilter, seccompProgram } from "../../src/backends/sandbox/seccomp.ts";

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;

/** Runs the program on one struct seccomp_data (nr, arch, args[1]). */
function verdict(nr: number, arch: number, arg1 = 0): number {
  const prog = seccompProgram();
  const data = new DataView(new ArrayBuffer(64));
  data.setInt32(0, nr, true);
  data.setUint32(4, arch, true);
  data.setUint32(24, arg1, true);
  let acc = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const i = prog[pc]!;
    if (i.code === 0x20) acc = data.getUint32(i.k, true);
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

  test("x32 calls are refused whole; the bytes are 8 per instruction", () => {
    expect(verdict(0x40000000 + 250, X86_64)).toBe(EPERM);
    expect(verdict(0x40000000 + 1, X86_64)).toBe(EPERM);
    expect(seccompFilter().length).toBe(seccompProgram().length * 8);
  });
});
