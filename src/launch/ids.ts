/**
 * Run ids: unique, sortable by start time, readable in `bottle ps`, and safe as a directory name
 * (`$BOTTLE_HOME/runs/<id>`): `<agent>-<UTC yyyymmdd-hhmmss>-<4 hex>`.
 */
import { randomBytes } from "node:crypto";

export function newRunId(agent: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${agent}-${stamp}-${randomBytes(2).toString("hex")}`;
}
