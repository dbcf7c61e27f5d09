/**
 * THREAD and UID THREAD (RFC 5256 §4): `THREAD REFERENCES UTF-8 ALL`. The edge runs the
 * search and returns each match's threading keys in the same call (ThreadKeys, isReply
 * included: REFERENCES' subject merge needs it); the threads are built here (thread/thread.ts).
 */
import { ImapProtocolError } from "../protocol/errors.ts";
import { checkCharset, parseSearch } from "../search/parse.ts";
import { thread as buildThreads, threadResponse, type ThreadAlgorithm } from "../thread/thread.ts";
import { reportMailboxChanges } from "./changes.ts";
import { requiredCharset, restOf, searchContext } from "./search.ts";
import type { CommandSpec } from "./types.ts";

export const THREAD_ALGORITHMS: readonly ThreadAlgorithm[] = ["REFERENCES", "ORDEREDSUBJECT"];

export const thread: CommandSpec = {
  states: ["selected"],
  async run({ args, conn, byUid }) {
    const algorithm = args.atom("a threading algorithm").toUpperCase();
    if (!THREAD_ALGORITHMS.includes(algorithm as ThreadAlgorithm)) throw new ImapProtocolError("BAD", "Unknown threading algorithm");
    requiredCharset(args, checkCharset);
    if (conn.state.kind !== "selected") throw new Error("unreachable");
    const { view, principal } = conn.state;
    const parsed = parseSearch(restOf(args), searchContext(view), { charsetGiven: true });
    const result = await conn.store.search(principal.accountId, view.mailbox.id, {
      criteria: parsed.criteria,
      threadKeys: true,
      sinceModseq: view.highestModseq,
    });
    const keys = (result.threadKeys ?? []).filter((k) => view.has(k.uid));
    const threads = buildThreads(algorithm as ThreadAlgorithm, keys);
    await conn.send(threadResponse(threads, byUid ? (uid) => uid : (uid) => view.seqOf(uid)!));
    await reportMailboxChanges(conn, { expunges: byUid, changes: result.changes });
    return { text: "Thread completed." };
  },
};
