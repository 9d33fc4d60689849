/**
 * What Codex asks of the ChatGPT backend besides generations, answered so a simulated run is clean: the
 * model list (`GET /backend-api/codex/models`), which Codex refreshes at start and otherwise reports as an
 * error four times per run. An empty list is a valid answer: Codex keeps the models it ships with.
 */
import { jsonResponse } from "./respond.ts";
import type { SimulatorOptions } from "./options.ts";

export function codexModels(o: SimulatorOptions): Response {
  return jsonResponse(o, { models: [] }, 200, { etag: '"bottle-simulator"' });
}
