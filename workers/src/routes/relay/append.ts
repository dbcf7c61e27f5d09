/**
 * `POST /relay/v1/accounts/:a/mailboxes/append`: IMAP APPEND and MULTIAPPEND (AppendRequest →
 * AppendResult). The relay uploads each message's blob first (PUT blobs/:sha256), then calls this;
 * it answers the tagged OK only after this returned 2xx — accepted means stored (DESIGN.md §2.1),
 * through the one ingest path (store/ingest.ts).
 *
 * Callers may rely on: all messages are stored in one transaction, or none, with consecutive
 * UIDs in request order; errors: try_create (404: no mailbox of that name), over_quota (422,
 * OVERQUOTA), blob_missing (409, temporary: upload again, then retry), bad_request (400: an
 * unknown system flag, a size that does not match its blob).
 */
import { Hono } from "hono";
import { AppendRequest, type AppendResult } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { apiError, idParam, parseBody } from "../../errors.ts";
import { unknownSystemFlag } from "../../store/flags.ts";
import { ingestMessage } from "../../store/ingest.ts";
import { mailboxByName } from "../../store/mailboxes.ts";

export const appendRoutes = new Hono<AppEnv>().post("/", async (c) => {
  const accountId = idParam(c.req.param("a"), "try_create");
  const req = await parseBody(c, AppendRequest);
  for (const m of req.messages) {
    const bad = unknownSystemFlag(m.flags);
    if (bad) throw apiError("bad_request", `Cannot store system flag ${bad}`);
  }
  const mailbox = (await mailboxByName(c.var.db, accountId, req.name))[0];
  if (!mailbox) throw apiError("try_create");
  const result = await ingestMessage(c.var.db, c.env.MAIL, {
    // APPEND has no key of its own: a retried APPEND is a new message, as IMAP expects.
    idempotencyKey: `append:${crypto.randomUUID()}`,
    mailFrom: "",
    targets: [{ recipient: "", accountId, mailboxId: mailbox.id }],
    messages: req.messages,
  });
  // Fewer rows than messages: the mailbox was deleted between the lookup and the batch.
  if (result.stored.length !== req.messages.length) throw apiError("try_create");
  return c.json({ mailboxId: mailbox.id, uidvalidity: mailbox.uidvalidity, uids: result.stored.map((s) => s.uid) } satisfies AppendResult);
});
