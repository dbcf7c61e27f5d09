/**
 * NOOP (RFC 9051 §6.1.2): in the selected state, the point where changes made by other
 * sessions (new mail, flag changes, expunges) are reported — one edge call per NOOP.
 */
import type { CommandSpec } from "./types.ts";
import { reportMailboxChanges } from "./changes.ts";

export const noop: CommandSpec = {
  states: ["notAuthenticated", "authenticated", "selected"],
  async run({ args, conn }) {
    args.end();
    await reportMailboxChanges(conn);
    return { text: "NOOP completed." };
  },
};
