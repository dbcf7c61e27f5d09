/**
 * `/relay/v1/accounts/:a/mailboxes`: the mailbox list (GET, 404 not_found for an unknown
 * account) and the SELECT snapshot (`POST select` {name} → MailboxSnapshot, 404 no_such_mailbox).
 * The account in the path is the principal the relay authenticated; every query is scoped by it.
 */
import { Hono } from "hono";
import { SelectRequest, type MailboxList, type MailboxSnapshot } from "../../../../common/contract.ts";
import type { AppEnv } from "../../env.ts";
import { idParam, parseBody } from "../../errors.ts";
import { listMailboxes, selectMailbox } from "../../store/mailboxes.ts";

export const mailboxRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const accountId = idParam(c.req.param("a"));
    return c.json({ mailboxes: await listMailboxes(c.var.db, accountId) } satisfies MailboxList);
  })
  .post("/select", async (c) => {
    const accountId = idParam(c.req.param("a"), "no_such_mailbox");
    const req = await parseBody(c, SelectRequest);
    return c.json((await selectMailbox(c.var.db, accountId, req.name)) satisfies MailboxSnapshot);
  });
