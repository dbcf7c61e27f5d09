/**
 * IDLE (RFC 2177): `+ idling`, then changes to the selected mailbox are reported as they
 * happen — EXISTS, EXPUNGE/VANISHED, FETCH FLAGS — until the client sends DONE.
 *
 * Two sources wake the report: the relay's ChangeFeed (a change made through this relay:
 * reported at once) and a poll of the edge every POLL_MS (changes made through other relays).
 * Either way the report itself is the edge's changes-since-MODSEQ call, so the feed is only an
 * accelerator. Reports never overlap, and the last one finishes before the tagged OK.
 */
import { ImapProtocolError } from "../protocol/errors.ts";
import { reportMailboxChanges } from "./changes.ts";
import type { CommandSpec } from "./types.ts";

/** How often an idling session asks the edge for changes made through other relays. */
export const IDLE_POLL_MS = 2_000;

export const idle: CommandSpec = {
  states: ["authenticated", "selected"],
  async run({ args, conn }) {
    args.end();
    if (conn.state.kind !== "authenticated" && conn.state.kind !== "selected") throw new Error("unreachable");
    const accountId = conn.state.principal.accountId;

    let stopped = false;
    let running: Promise<void> | null = null;
    let again = false;
    const trigger = (): void => {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      running = (async () => {
        do {
          again = false;
          try {
            await reportMailboxChanges(conn);
          } catch {
            // The edge is unreachable for now: keep idling, the next poll tries again.
          }
        } while (again && !stopped);
        running = null;
      })();
    };

    const unsubscribe = conn.changes.subscribe(accountId, (change) => {
      const state = conn.state;
      if (state.kind !== "selected") return;
      if (change.mailboxId === null || change.mailboxId === state.view.mailbox.id) trigger();
    });
    const poll = setInterval(trigger, IDLE_POLL_MS);
    poll.unref();
    let line: Buffer | null;
    try {
      const done = conn.readLine("idling"); // writes "+ idling" before it waits
      trigger();
      line = await done;
    } finally {
      stopped = true;
      unsubscribe();
      clearInterval(poll);
      await (running as Promise<void> | null);
    }
    if (line === null) return { text: "Idle ended." }; // the connection closed
    if (line.toString("latin1").trim().toUpperCase() !== "DONE") throw new ImapProtocolError("BAD", "Expected DONE");
    return { text: "Idle completed." };
  },
};
