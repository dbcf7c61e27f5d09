/**
 * `/relay/v1/accounts/:a/mailboxes`: the mailbox list (GET), CREATE (`POST /`), `delete`, `rename`,
 * `subscribe`, STATUS (`status`), the SELECT snapshot (`select`) and the changes feed
 * (`:m/changes`). The account in the path is the principal the relay authenticated; every query
 * is scoped by it. Shapes and error codes: common/contract.ts; semantics: store/hierarchy.ts,
 * store/mailboxes.ts, store/changes.ts.
 *
 * Callers may rely on: an unknown account is 404 not_found (no_such_mailbox where a mailbox is
 * named); bodyless successes (delete, rename, subscribe) answer `{}`.
 */
import { Hono } from "hono";
import {
  ChangesRequest,
  CreateMailboxRequest,
  MailboxNameRequest,
  RenameMailboxRequest,
  SelectRequest,
  StatusRequest,
  SubscribeRequest,
  type ChangesResult,
  type Mailbox,
  type MailboxList,
  type MailboxSnapshot,
  type StatusResult,
} from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { idParam, parseBody } from "../../errors.ts";
import { changesSince } from "../../store/changes.ts";
import { createMailbox, deleteMailbox, renameMailbox } from "../../store/hierarchy.ts";
import { listMailboxes, mailboxStatus, selectMailbox } from "../../store/mailboxes.ts";
import { setSubscribed } from "../../store/subscriptions.ts";

export const mailboxRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const accountId = idParam(c.req.param("a"));
    return c.json({ mailboxes: await listMailboxes(c.var.db, accountId) } satisfies MailboxList);
  })
  .post("/", async (c) => {
    const accountId = idParam(c.req.param("a"));
    const req = await parseBody(c, CreateMailboxRequest);
    return c.json((await createMailbox(c.var.db, accountId, req)) satisfies Mailbox);
  })
  .post("/delete", async (c) => {
    const accountId = idParam(c.req.param("a"), "no_such_mailbox");
    const req = await parseBody(c, MailboxNameRequest);
    await deleteMailbox(c.var.db, accountId, req.name);
    return c.json({});
  })
  .post("/rename", async (c) => {
    const accountId = idParam(c.req.param("a"), "no_such_mailbox");
    const req = await parseBody(c, RenameMailboxRequest);
    await renameMailbox(c.var.db, accountId, req.from, req.to);
    return c.json({});
  })
  .post("/subscribe", async (c) => {
    const accountId = idParam(c.req.param("a"));
    const req = await parseBody(c, SubscribeRequest);
    await setSubscribed(c.var.db, accountId, req.name, req.subscribed);
    return c.json({});
  })
  .post("/status", async (c) => {
    const accountId = idParam(c.req.param("a"));
    const req = await parseBody(c, StatusRequest);
    return c.json({ mailboxes: await mailboxStatus(c.var.db, accountId, req.names) } satisfies StatusResult);
  })
  .post("/select", async (c) => {
    const accountId = idParam(c.req.param("a"), "no_such_mailbox");
    const req = await parseBody(c, SelectRequest);
    return c.json((await selectMailbox(c.var.db, accountId, req.name, req.claimRecent)) satisfies MailboxSnapshot);
  })
  .post("/:m/changes", async (c) => {
    const accountId = idParam(c.req.param("a"), "no_such_mailbox");
    const mailboxId = idParam(c.req.param("m"), "no_such_mailbox");
    const req = await parseBody(c, ChangesRequest);
    return c.json((await changesSince(c.var.db, accountId, mailboxId, req.sinceModseq)) satisfies ChangesResult);
  });
