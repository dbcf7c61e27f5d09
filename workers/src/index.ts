/**
 * The edge Worker: one Hono app serving the relay API (/relay/v1, Bearer RELAY_KEY), the admin API
 * (/admin/v1, Bearer ADMIN_TOKEN) and the public web endpoints: the MTA-STS policy, client
 * autoconfig and the TLS-RPT report endpoint. Shapes: common/contract.ts.
 *
 * Callers may rely on: every error body is the contract's ApiError (errors.ts); a request under
 * /relay/v1 or /admin/v1 without the right bearer is 401 before anything else happens, even for
 * paths that do not exist; anything unrouted is 404 not_found.
 */
import { Hono } from "hono";
import { ADMIN_API_PREFIX, RELAY_API_PREFIX } from "../../common/contract.ts";
import { requireBearer } from "./auth/keys.ts";
import type { AppEnv } from "./env.ts";
import { apiError, errorResponse } from "./errors.ts";
import { accountRoutes } from "./routes/admin/accounts.ts";
import { aliasRoutes } from "./routes/admin/aliases.ts";
import { adminBlobRoutes } from "./routes/admin/blobs.ts";
import { deliveryRecordRoutes } from "./routes/admin/deliveries.ts";
import { domainRoutes } from "./routes/admin/domains.ts";
import { tlsResultRoutes } from "./routes/admin/tls-results.ts";
import { clockRoutes } from "./routes/admin/clock.ts";
import { faultRoutes } from "./routes/admin/faults.ts";
import { mtaStsRoutes } from "./routes/mta-sts.ts";
import { autoconfigRoutes } from "./routes/autoconfig.ts";
import { tlsReportRoutes } from "./routes/tls-reports.ts";
import { queueRoutes } from "./routes/admin/queue.ts";
import { reportRoutes } from "./routes/admin/reports.ts";
import { appendRoutes } from "./routes/relay/append.ts";
import { authRoutes } from "./routes/relay/auth.ts";
import { blobRoutes } from "./routes/relay/blobs.ts";
import { deliveryRoutes } from "./routes/relay/deliveries.ts";
import { dkimRoutes } from "./routes/relay/dkim.ts";
import { mailboxRoutes } from "./routes/relay/mailboxes.ts";
import { outboundRoutes } from "./routes/relay/outbound.ts";
import { messageRoutes } from "./routes/relay/messages.ts";
import { quotaRoutes } from "./routes/relay/quota.ts";
import { recipientRoutes } from "./routes/relay/recipients.ts";
import { senderRoutes } from "./routes/relay/senders.ts";
import { submissionRoutes } from "./routes/relay/submissions.ts";
import { subscriptionRoutes } from "./routes/relay/subscriptions.ts";
import { createDb } from "./store/db.ts";

const relay = new Hono<AppEnv>()
  .use("*", requireBearer("RELAY_KEY"))
  .route("/blobs", blobRoutes)
  .route("/deliveries", deliveryRoutes)
  .route("/recipients", recipientRoutes)
  .route("/auth", authRoutes)
  .route("/accounts/:a/mailboxes/:m/messages", messageRoutes)
  .route("/accounts/:a/mailboxes/append", appendRoutes)
  .route("/accounts/:a/mailboxes", mailboxRoutes)
  .route("/accounts/:a/subscriptions", subscriptionRoutes)
  .route("/accounts/:a/quota", quotaRoutes)
  .route("/accounts/:a/senders", senderRoutes)
  .route("/accounts/:a/submissions", submissionRoutes)
  .route("/outbound", outboundRoutes)
  .route("/domains/:domain/dkim", dkimRoutes);

const admin = new Hono<AppEnv>()
  .use("*", requireBearer("ADMIN_TOKEN"))
  .route("/domains", domainRoutes)
  .route("/accounts", accountRoutes)
  .route("/aliases", aliasRoutes)
  .route("/deliveries", deliveryRecordRoutes)
  .route("/blobs", adminBlobRoutes)
  .route("/faults", faultRoutes)
  .route("/clock", clockRoutes)
  .route("/tls-results", tlsResultRoutes)
  .route("/queue", queueRoutes)
  .route("/reports", reportRoutes);

const app = new Hono<AppEnv>()
  .use("*", async (c, next) => {
    c.set("db", createDb(c.env.DB));
    await next();
  })
  .route(RELAY_API_PREFIX, relay)
  .route(ADMIN_API_PREFIX, admin)
  .route("/", mtaStsRoutes)
  .route("/", autoconfigRoutes)
  .route("/", tlsReportRoutes);

app.notFound(() => errorResponse(apiError("not_found")));
app.onError((err) => errorResponse(err));

export default app;
