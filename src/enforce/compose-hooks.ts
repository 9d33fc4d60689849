/**
 * Several hook sets acting as one, in order: metering first, then budgets, for example. Request bodies
 * thread through every onRequest; the first refusal wins admission; response chunks pass through each hook
 * in turn (so a replacement made by one is what the next sees, as with a body an admission replaces); end and abort are awaited in order, so a
 * settlement runs only after the usage it depends on has been recorded.
 */
import type { Admission, ProxyHooks } from "../proxy/hooks.ts";

export function composeHooks(...sets: ProxyHooks[]): ProxyHooks {
  return {
    async onRequest(ctx, body) {
      let current = body;
      let replaced = false;
      for (const h of sets) {
        const r = await h.onRequest?.(ctx, current);
        if (r && r.body) {
          current = r.body;
          replaced = true;
        }
      }
      return replaced ? { body: current } : undefined;
    },
    async admit(ctx, body): Promise<Admission> {
      let current = body;
      let replaced = false;
      for (const h of sets) {
        const a = await h.admit?.(ctx, current);
        if (a && !a.allow) return a;
        if (a?.body) {
          current = a.body;
          replaced = true;
        }
      }
      return replaced ? { allow: true, body: current } : { allow: true };
    },
    onResponseStart(ctx, status, headers) {
      for (const h of sets) h.onResponseStart?.(ctx, status, headers);
    },
    onResponseChunk(ctx, chunk) {
      let current = chunk;
      let replaced = false;
      for (const h of sets) {
        const r = h.onResponseChunk?.(ctx, current);
        if (r) {
          current = r;
          replaced = true;
        }
      }
      return replaced ? current : undefined;
    },
    async onResponseEnd(ctx) {
      for (const h of sets) await h.onResponseEnd?.(ctx);
    },
    async onAbort(ctx, reason, error) {
      for (const h of sets) await h.onAbort?.(ctx, reason, error);
    },
    onWebSocketMessage(ctx, direction, data) {
      for (const h of sets) h.onWebSocketMessage?.(ctx, direction, data);
    },
    onAudit(record, log) {
      for (const h of sets) h.onAudit?.(record, log);
    },
  };
}
