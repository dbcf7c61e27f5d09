/**
 * Client autoconfiguration, public (no admin token), mounted at "/" and built from the domain's
 * settings on every request (mxHosts[0] is the IMAP and submission host), so a PATCH of the domain
 * shows at once. Renderers: ../autoconfig/.
 *
 *   GET  /mail/config-v1.1.xml                       Thunderbird, on host autoconfig.<domain>
 *   GET  /.well-known/autoconfig/mail/config-v1.1.xml  Thunderbird, on host <domain> or autoconfig.<domain>
 *   POST /autodiscover/autodiscover.xml               Outlook (POX); path case-insensitive, any host
 *   GET  /apple/mail.mobileconfig                     Apple profile, HTTP Basic login of the account
 *
 * Callers may rely on:
 * - Thunderbird: the domain is taken from the Host header (`autoconfig.` stripped; Thunderbird's
 *   `?emailaddress=` is not needed, the file uses its placeholders); unknown domain → 404.
 * - Autodiscover: the domain is taken from <EMailAddress>, not from the Host, because Outlook may
 *   reach us through `<domain>`, `autodiscover.<domain>` or an `_autodiscover._tcp` SRV redirect
 *   to the edge's own name; a domain we do not serve → 404; a body that is not well-formed XML of
 *   Outlook's request schema with an address → 400 with the reason; a body over 16 KiB → 413.
 * - Apple: the profile is for the authenticated account on its own domain, whatever the Host;
 *   missing or wrong credentials → 401 auth_failed with `WWW-Authenticate: Basic realm="edgemail"`;
 *   after too many failures for the address or the client (store/login-throttle.ts) → 429
 *   rate_limited with Retry-After, before any password is checked. The answer is
 *   `no-store`, and never holds the password.
 * - A domain that mirrors another (settings.aliasOf) is configured with the mirrored domain's
 *   host, and login names there (`user@mirror` logs in as `user@target`).
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../env.ts";
import { apiError } from "../errors.ts";
import { readCapped } from "../http/read-capped.ts";
import { parseAutodiscoverRequest, renderAutodiscoverResponse } from "../autoconfig/autodiscover.ts";
import { profileUuids, renderMobileconfig } from "../autoconfig/mobileconfig.ts";
import type { MailService } from "../autoconfig/settings.ts";
import { renderThunderbirdConfig } from "../autoconfig/thunderbird.ts";
import { authenticate } from "../store/accounts.ts";
import type { Db } from "../store/db.ts";
import { domainWithSettings, findDomain } from "../store/domains.ts";
import { recordFailure, recordSuccess, throttledFor } from "../store/login-throttle.ts";

const AUTOCONFIG = "autoconfig.";
/** An Autodiscover request is a few hundred bytes; this leaves room for any client's extras. */
const MAX_AUTODISCOVER_BODY = 16 * 1024;
const XML = "text/xml; charset=utf-8";
const BASIC_CHALLENGE = 'Basic realm="edgemail"';

/** Hono routes are case-sensitive; Outlook spells this path in more than one way. */
const anyCase = (word: string) => word.replace(/[a-z]/g, (ch) => `[${ch}${ch.toUpperCase()}]`);
const AUTODISCOVER_PATH = `/:dir{${anyCase("autodiscover")}}/:file{${anyCase("autodiscover")}\\.${anyCase("xml")}}`;

export const autoconfigRoutes = new Hono<AppEnv>()
  .get("/mail/config-v1.1.xml", async (c) => {
    const host = requestHost(c);
    if (!host.startsWith(AUTOCONFIG)) throw apiError("not_found");
    return thunderbird(c, [host.slice(AUTOCONFIG.length)]);
  })
  .get("/.well-known/autoconfig/mail/config-v1.1.xml", async (c) => {
    const host = requestHost(c);
    // A domain may itself be called autoconfig.<something>: the stripped name is tried first.
    return thunderbird(c, host.startsWith(AUTOCONFIG) ? [host.slice(AUTOCONFIG.length), host] : [host]);
  })
  .post(AUTODISCOVER_PATH, async (c) => {
    const body = utf8Text(await readCapped(c.req.raw, MAX_AUTODISCOVER_BODY, `Request body is larger than ${MAX_AUTODISCOVER_BODY} bytes`));
    const request = parseAutodiscoverRequest(body);
    if (!request.ok) throw apiError("bad_request", request.reason);
    const service = await mailService(c.var.db, domainPart(request.emailAddress));
    return c.body(renderAutodiscoverResponse(service, request.emailAddress), 200, { "content-type": XML, "cache-control": "no-store" });
  })
  .get("/apple/mail.mobileconfig", async (c) => {
    const credentials = basicCredentials(c.req.header("authorization"));
    const login = credentials && { address: credentials.username, ip: c.req.header("cf-connecting-ip") ?? null };
    if (login) {
      const wait = await throttledFor(c.var.db, login, Date.now());
      if (wait !== null) {
        const error = apiError("rate_limited", `Too many failed logins; try again in ${wait} s`);
        return c.json(error.toBody(), 429, { "retry-after": String(wait), "cache-control": "no-store" });
      }
    }
    const account = credentials ? await authenticate(c.var.db, credentials.username, credentials.password) : null;
    if (login) await (account ? recordSuccess(c.var.db, login) : recordFailure(c.var.db, login, Date.now()));
    if (!account) {
      const error = apiError("auth_failed", credentials ? undefined : "Authentication required");
      return c.json(error.toBody(), 401, { "www-authenticate": BASIC_CHALLENGE, "cache-control": "no-store" });
    }
    const service = await mailService(c.var.db, domainPart(account.address));
    const profile = renderMobileconfig(service, account.address, await profileUuids(account.address));
    return c.body(profile, 200, {
      "content-type": "application/x-apple-aspen-config",
      // Host names are [a-z0-9.-], safe inside the quotes.
      "content-disposition": `attachment; filename="${service.domain}.mobileconfig"`,
      "cache-control": "no-store",
    });
  });

async function thunderbird(c: Context<AppEnv>, candidates: string[]): Promise<Response> {
  for (const name of candidates) {
    if (!(await findDomain(c.var.db, name))) continue;
    const xml = renderThunderbirdConfig(await mailService(c.var.db, name));
    // Short, like the MTA-STS policy: clients fetch it once per account setup anyway.
    return c.body(xml, 200, { "content-type": XML, "cache-control": "max-age=300" });
  }
  throw apiError("not_found");
}

/** The domain's service as clients see it; 404 not_found for a domain we do not serve. */
async function mailService(db: Db, name: string): Promise<MailService> {
  const domain = await domainWithSettings(db, name);
  const home = domain.settings.aliasOf ? await domainWithSettings(db, domain.settings.aliasOf) : domain;
  return { domain: domain.name, host: home.settings.mxHosts[0]!, loginDomain: home.name };
}

function requestHost(c: Context<AppEnv>): string {
  return (c.req.header("host") ?? new URL(c.req.url).host).toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
}

function domainPart(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1);
}

/** RFC 7617 credentials (user-id and password in UTF-8), or null when absent or malformed. */
function basicCredentials(header: string | undefined): { username: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header ?? "");
  if (!match) return null;
  let decoded: string;
  try {
    decoded = strictUtf8(Uint8Array.from(atob(match[1]!), (ch) => ch.charCodeAt(0)));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon <= 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Throws on bytes that are not UTF-8, rather than guessing with U+FFFD. */
function strictUtf8(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
}

function utf8Text(bytes: Uint8Array): string {
  try {
    return strictUtf8(bytes);
  } catch {
    throw apiError("bad_request", "Request body is not UTF-8");
  }
}
