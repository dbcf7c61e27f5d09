/**
 * `/relay/v1/accounts/:a/mailboxes/:m/messages`: metadata for a UID set (`POST fetch`), the raw
 * octets of one message (`GET :uid/raw`, honouring `Range: bytes=a-b` with 206), flag changes
 * (`POST flags`), `expunge`, `copy` (COPY and MOVE) and `search` (SEARCH, SORT, THREAD).
 *
 * Callers may rely on: a mailbox id that is not the account's is 404 no_such_mailbox, a UID that
 * is not in it 404 not_found; raw bodies stream from R2 without being buffered here, with
 * Content-Length set; a range starting past the end is 416 (code bad_request). Copy: the target
 * is named; 404 try_create when it does not exist, 400 cannot for a MOVE into the same mailbox,
 * 422 over_quota when the copies would not fit (moves never do). Search: 400 bad_request for
 * criteria the edge cannot run (an impossible date, a tree nested too deep or too large).
 * Fetch, flags and search given `sinceModseq` also answer `changes`: the changes feed read
 * after the operation (store/changes.ts), so the relay needs no second round trip.
 */
import { Hono } from "hono";
import {
  CopyRequest,
  ExpungeRequest,
  FetchRequest,
  SearchRequest,
  StoreFlagsRequest,
  type CopyResult,
  type ExpungeResult,
  type FetchResult,
  type SearchResult,
  type StoreFlagsResult,
} from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { apiError, errorResponse, idParam, parseBody } from "../../errors.ts";
import { parseRange } from "../../store/blobs.ts";
import { changesSince } from "../../store/changes.ts";
import { copyMessages } from "../../store/copy.ts";
import type { Db } from "../../store/db.ts";
import { expungeMessages } from "../../store/expunge.ts";
import { unknownSystemFlag } from "../../store/flags.ts";
import { fetchMessages, findMessageBlob, storeFlags } from "../../store/messages.ts";
import { searchMessages } from "../../store/search.ts";

/** The changes feed's answer for `sinceModseq`, when asked; read after the operation it rides on. */
async function piggyback(db: Db, accountId: number, mailboxId: number, sinceModseq: number | undefined) {
  return sinceModseq === undefined ? {} : { changes: await changesSince(db, accountId, mailboxId, sinceModseq) };
}

export const messageRoutes = new Hono<AppEnv>()
  .post("/fetch", async (c) => {
    const accountId = idParam(c.req.param("a"), "no_such_mailbox");
    const mailboxId = idParam(c.req.param("m"), "no_such_mailbox");
    const req = await parseBody(c, FetchRequest);
    const messages = await fetchMessages(c.var.db, accountId, mailboxId, req.uids);
    return c.json({ messages, ...(await piggyback(c.var.db, accountId, mailboxId, req.sinceModseq)) } satisfies FetchResult);
  })
  .post("/flags", async (c) => {
    const accountId = idParam(c.req.param("a"), "no_such_mailbox");
    const mailboxId = idParam(c.req.param("m"), "no_such_mailbox");
    const req = await parseBody(c, StoreFlagsRequest);
    const bad = unknownSystemFlag(req.flags);
    if (bad) throw apiError("bad_request", `Cannot store system flag ${bad}`);
    const result = await storeFlags(c.var.db, accountId, mailboxId, req);
    return c.json({ ...result, ...(await piggyback(c.var.db, accountId, mailboxId, req.sinceModseq)) } satisfies StoreFlagsResult);
  })
  .post("/expunge", async (c) => {
    const accountId = idParam(c.req.param("a"), "no_such_mailbox");
    const mailboxId = idParam(c.req.param("m"), "no_such_mailbox");
    const req = await parseBody(c, ExpungeRequest);
    return c.json((await expungeMessages(c.var.db, accountId, mailboxId, req.uids)) satisfies ExpungeResult);
  })
  .post("/copy", async (c) => {
    const accountId = idParam(c.req.param("a"), "no_such_mailbox");
    const mailboxId = idParam(c.req.param("m"), "no_such_mailbox");
    const req = await parseBody(c, CopyRequest);
    return c.json((await copyMessages(c.var.db, accountId, mailboxId, req)) satisfies CopyResult);
  })
  .post("/search", async (c) => {
    const accountId = idParam(c.req.param("a"), "no_such_mailbox");
    const mailboxId = idParam(c.req.param("m"), "no_such_mailbox");
    const req = await parseBody(c, SearchRequest);
    const result = await searchMessages(c.var.db, accountId, mailboxId, req);
    return c.json({ ...result, ...(await piggyback(c.var.db, accountId, mailboxId, req.sinceModseq)) } satisfies SearchResult);
  })
  .get("/:uid/raw", async (c) => {
    const accountId = idParam(c.req.param("a"));
    const mailboxId = idParam(c.req.param("m"));
    const uid = idParam(c.req.param("uid"));
    const found = await findMessageBlob(c.var.db, accountId, mailboxId, uid);
    if (!found) throw apiError("not_found", "No such message");
    const range = parseRange(c.req.header("range"), found.size);
    if (range === "unsatisfiable") {
      const res = errorResponse(apiError("bad_request", "Range not satisfiable", 416));
      res.headers.set("content-range", `bytes */${found.size}`);
      return res;
    }
    const object = await c.env.MAIL.get(found.blobKey, range ? { range } : {});
    if (!object) {
      // A row without its blob breaks the ingest invariant: worth a loud log, and a retryable answer.
      console.error("edge: message row without blob", { accountId, mailboxId, uid, blobKey: found.blobKey });
      throw apiError("blob_missing");
    }
    const headers = new Headers({ "content-type": "message/rfc822", "accept-ranges": "bytes" });
    if (range) {
      headers.set("content-length", String(range.length));
      headers.set("content-range", `bytes ${range.offset}-${range.offset + range.length - 1}/${object.size}`);
      return new Response(object.body, { status: 206, headers });
    }
    headers.set("content-length", String(object.size));
    return new Response(object.body, { status: 200, headers });
  });
