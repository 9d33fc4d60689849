/**
 * What the sandbox must know about this host before it builds a bottle, read here so that args.ts stays
 * pure: which /etc entries to cover, which login homes to hide, and who the agent will be. /etc is exposed
 * because programs need it (resolver, certificates, locale), but it also holds secrets: the password and
 * group shadow files, ssh host keys, private TLS keys, sudo rules. Those are covered by name, and so is
 * every entry the agent's user could not read anyway (not world-readable, or a unix socket), so the cover
 * does not depend on who launched bottle or on a list being complete.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from "node:fs";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import { BackendError } from "../../errors.ts";
import { AGENT_HOST_ID, SANDBOX_GID, SANDBOX_UID, type AgentIdentity } from "./args.ts";

/** Covered whether or not their modes would keep the agent out. */
export const ETC_SECRETS = [
  "/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/subuid", "/etc/subgid",
  "/etc/sudoers", "/etc/sudoers.d", "/etc/ssh", "/etc/ssl/private", "/etc/security/opasswd",
  "/etc/docker", "/etc/containers/auth.json", "/etc/machine-id", "/etc/krb5.keytab",
] as const;

const MAX_DEPTH = 6;

/** Entries under `root` to cover: the named secrets that exist, then everything not world-readable. */
export function etcMasks(root = "/etc"): { path: string; dir: boolean }[] {
  const out: { path: string; dir: boolean }[] = [];
  const covered = new Set<string>();
  const add = (path: string, dir: boolean): void => {
    if (covered.has(path)) return;
    covered.add(path);
    out.push({ path, dir });
  };
  for (const p of ETC_SECRETS) {
    if (root !== "/etc") break;
    const st = lstatOrUndefined(p);
    if (st && !st.isSymbolicLink()) add(p, st.isDirectory());
  }
  const walk = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      if (covered.has(p)) continue;
      const st = lstatOrUndefined(p);
      if (!st || st.isSymbolicLink()) continue;
      if (st.isDirectory()) {
        if ((st.mode & 0o005) !== 0o005) add(p, true);
        else if (depth < MAX_DEPTH) walk(p, depth + 1);
      } else if (st.isSocket() || (st.mode & 0o004) === 0) {
        add(p, false);
      }
    }
  };
  walk(root, 1);
  return out;
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** The launching user's login homes: the user database's (whatever $HOME says) and $HOME. */
export function loginHomes(env: Record<string, string | undefined> = process.env): string[] {
  const homes = [env.HOME ?? "", homedir()];
  try {
    homes.push(userInfo().homedir);
  } catch {
    /* no entry in the user database: $HOME is all there is */
  }
  if (process.getuid?.() === 0) homes.push("/root");
  return [...new Set(homes.filter((h) => h.startsWith("/") && h !== "/"))];
}

/** The target of a symlink, or undefined. */
export function linkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether an id appears in a passwd- or group-format file. */
function idTaken(file: string, id: number): string | undefined {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  return text.split("\n").find((line) => line.split(":")[2] === String(id))?.split(":")[0];
}

/**
 * Who the agent is. An ordinary user: uid 1000 in a user namespace mapped to that user. Root: AGENT_HOST_ID,
 * which must be unassigned (an account with that id would own files the agent could then change).
 */
export function agentIdentity(uid = process.getuid?.() ?? 0): AgentIdentity {
  if (uid !== 0) return { kind: "userns", uid: SANDBOX_UID, gid: SANDBOX_GID };
  for (const [file, what] of [["/etc/passwd", "user"], ["/etc/group", "group"]] as const) {
    const name = idTaken(file, AGENT_HOST_ID);
    if (name) {
      throw new BackendError(`bottle runs its agent as uid/gid ${AGENT_HOST_ID} when launched as root, but ${file} assigns it to the ${what} ${name}`, {
        key: "uid",
        fix: `run bottle as an ordinary user, or free id ${AGENT_HOST_ID} in ${file}`,
      });
    }
  }
  const setpriv = Bun.which("setpriv", { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" });
  if (!setpriv) throw new BackendError("bottle runs as root, and the sandbox needs setpriv to drop the agent to an unprivileged uid", { key: "setpriv", fix: "install util-linux (apt-get install util-linux), or run bottle as an ordinary user" });
  return { kind: "drop", uid: AGENT_HOST_ID, gid: AGENT_HOST_ID, setpriv };
}
