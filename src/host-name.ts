/**
 * The name this host's runs are recorded under. Several hosts may share one fleet ledger, and each acts
 * only on its own runs' processes (a pid means nothing on another machine), so the name must be the same
 * for every bottle process of a host. It is the OS host name unless BOTTLE_HOST_NAME sets it (two installs
 * on one machine acting as separate hosts, or a container whose host name changes at every start).
 */
import { hostname } from "node:os";

export function hostName(): string {
  return process.env.BOTTLE_HOST_NAME || hostname();
}
