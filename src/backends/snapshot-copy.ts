/**
 * The snapshot copy of a bottle's home (and a copied workspace): a tree the agent wrote, read by bottle on
 * the host. A copier that checks an entry's type and then opens it by path can be raced: the agent swaps a
 * file for a symlink to a host file in between, and the host's file (a key, a token) lands in the snapshot,
 * which the next resume hands back to the agent. So nothing here is opened twice by path:
 *   - every entry is opened with O_NOFOLLOW (a symlink fails with ELOOP and is copied as a link, verbatim);
 *   - its type comes from fstat of that open descriptor, never from an earlier lstat;
 *   - directories are listed and their entries opened through /proc/self/fd/<fd>, the directory that was
 *     opened, so a directory swapped for a symlink after it was opened changes nothing;
 *   - a file's bytes are copied from its descriptor, also through /proc/self/fd;
 *   - sockets, fifos and devices are skipped (opened non-blocking, so a fifo cannot hang the copy), and an
 *     entry that vanishes mid-copy is skipped rather than failing the freeze.
 * The destination is bottle's own run directory, which no bottle sees.
 */
import { closeSync, constants, copyFileSync, fchmodSync, fstatSync, futimesSync, mkdirSync, openSync, readdirSync, readlinkSync, symlinkSync, type Stats } from "node:fs";
import { join } from "node:path";

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY, COPYFILE_EXCL } = constants;

const GONE = new Set(["ENOENT", "ENOTDIR", "ENXIO", "EINVAL"]);

function codeOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

function copyEntry(fdPath: string, dest: string): void {
  let fd: number;
  try {
    fd = openSync(fdPath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    const code = codeOf(e);
    if (code === "ELOOP") {
      try {
        symlinkSync(readlinkSync(fdPath), dest);
      } catch (e2) {
        if (!GONE.has(codeOf(e2) ?? "")) throw e2;
      }
      return;
    }
    if (GONE.has(code ?? "")) return;
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) copyDirFd(fd, st, dest);
    else if (st.isFile()) {
      copyFileSync(`/proc/self/fd/${fd}`, dest, COPYFILE_EXCL);
      const out = openSync(dest, O_RDONLY | O_NOFOLLOW);
      try {
        fchmodSync(out, st.mode & 0o7777);
        futimesSync(out, st.atime, st.mtime);
      } finally {
        closeSync(out);
      }
    }
  } finally {
    closeSync(fd);
  }
}

function copyDirFd(fd: number, st: Stats, dest: string): void {
  mkdirSync(dest, { mode: 0o700 });
  const base = `/proc/self/fd/${fd}`;
  for (const name of readdirSync(base)) copyEntry(`${base}/${name}`, join(dest, name));
  const out = openSync(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  try {
    fchmodSync(out, st.mode & 0o7777);
    futimesSync(out, st.atime, st.mtime);
  } finally {
    closeSync(out);
  }
}

/** Copies the directory `from` to `to` (which must not exist; its parents are created). */
export function copySnapshotTree(from: string, to: string): void {
  const fd = openSync(from, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  try {
    mkdirSync(join(to, ".."), { recursive: true });
    copyDirFd(fd, fstatSync(fd), to);
  } finally {
    closeSync(fd);
  }
}
