/**
 * Client autoconfiguration against a real edge: Thunderbird's config-v1.1.xml (checked against
 * an XML Schema of Mozilla's documented format), Outlook's POX Autodiscover and Apple's
 * configuration profile, each read back with independent parsers (xmllint, Python's ElementTree
 * and plistlib; test/support/xml-tools.ts).
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import { createAccounts, setDomainSettings, startTestEdge, type TestEdge } from "../support/edge-api.ts";
import {
  childOf,
  childrenOf,
  parsePlist,
  parseXmlTree,
  pythonUuid5,
  THUNDERBIRD_XSD,
  validateWithXsd,
  type XmlNode,
} from "../support/xml-tools.ts";

const PASSWORD = "correct horse battery";
/** Needs escaping in XML: the edge must not break its documents for it. */
const ODD = "o'brien&co@example.org";
const REQUEST_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
const RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const OUTLOOK_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
/** Documented in workers/src/autoconfig/mobileconfig.ts. */
const PROFILE_UUID_NAMESPACE = "c693973f-05ba-5997-82c9-568339268ffb";

interface HttpReply {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** A request with a chosen Host header (fetch() may not set Host), over node:http. */
function requestWithHost(
  url: string,
  options: { method?: string; path: string; host: string; headers?: Record<string, string>; body?: string },
): Promise<HttpReply> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? "GET",
        path: options.path,
        headers: { host: options.host, ...options.headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]));
          resolve({ status: res.statusCode ?? 0, headers, text });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

function outlookRequest(address: string): string {
  return [
    `<?xml version="1.0" encoding="utf-8"?>`,
    `<Autodiscover xmlns="${REQUEST_NS}">`,
    `  <Request>`,
    `    <EMailAddress>${address.replace(/&/g, "&amp;").replace(/'/g, "&apos;")}</EMailAddress>`,
    `    <AcceptableResponseSchema>${OUTLOOK_NS}</AcceptableResponseSchema>`,
    `  </Request>`,
    `</Autodiscover>`,
  ].join("\r\n");
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}

function errorCode(reply: HttpReply): string {
  return (JSON.parse(reply.text) as { error: { code: string } }).error.code;
}

function errorMessage(reply: HttpReply): string {
  return (JSON.parse(reply.text) as { error: { message: string } }).error.message;
}

/** The servers of a Thunderbird config as plain values, in document order. */
function thunderbirdServers(xml: string) {
  const root = parseXmlTree(xml);
  assert.equal(root.tag, "clientConfig");
  assert.equal(root.attrs.version, "1.1");
  const provider = childOf(root, "emailProvider");
  const server = (s: XmlNode) => ({
    type: s.attrs.type,
    hostname: childOf(s, "hostname").text,
    port: Number(childOf(s, "port").text),
    socketType: childOf(s, "socketType").text,
    username: childOf(s, "username").text,
    authentication: childrenOf(s, "authentication").map((a) => a.text),
  });
  return {
    id: provider.attrs.id,
    domains: childrenOf(provider, "domain").map((d) => d.text),
    displayName: childOf(provider, "displayName").text,
    incoming: childrenOf(provider, "incomingServer").map(server),
    outgoing: childrenOf(provider, "outgoingServer").map(server),
  };
}

/** The IMAP and SMTP protocols of an Autodiscover response, after checking its frame. */
function autodiscoverProtocols(xml: string) {
  const root = parseXmlTree(xml);
  assert.equal(root.tag, `{${RESPONSE_NS}}Autodiscover`);
  const response = childOf(root, `{${OUTLOOK_NS}}Response`);
  const account = childOf(response, `{${OUTLOOK_NS}}Account`);
  assert.equal(childOf(account, `{${OUTLOOK_NS}}AccountType`).text, "email");
  assert.equal(childOf(account, `{${OUTLOOK_NS}}Action`).text, "settings");
  const byType: Record<string, Record<string, string>> = {};
  for (const p of childrenOf(account, `{${OUTLOOK_NS}}Protocol`)) {
    const fields = Object.fromEntries(p.children.map((c) => [c.tag.replace(`{${OUTLOOK_NS}}`, ""), c.text]));
    byType[fields.Type!] = fields;
  }
  return byType;
}

interface MailPayload {
  [key: string]: unknown;
}
interface Profile {
  PayloadContent: MailPayload[];
  [key: string]: unknown;
}

describe("client autoconfiguration", () => {
  let edge: TestEdge;
  before(async () => {
    edge = await startTestEdge();
    assert.equal((await edge.admin("POST", "/domains", { name: "example.org", mxHosts: ["mx1.example.org", "mx2.example.org"] })).status, 201);
    await createAccounts(edge, ["alice@example.org", "bob@example.org", ODD]);
    assert.equal((await edge.admin("POST", "/domains", { name: "mirror.test" })).status, 201);
    await setDomainSettings(edge, "mirror.test", { aliasOf: "example.org" });
  });
  after(async () => {
    await edge?.stop();
  });

  describe("Thunderbird", () => {
    it("serves an autoconfig XML that validates against the format Thunderbird documents", async () => {
      const r = await requestWithHost(edge.url, { path: "/mail/config-v1.1.xml?emailaddress=alice%40example.org", host: "autoconfig.Example.org" });
      assert.equal(r.status, 200);
      assert.match(r.headers["content-type"]!, /^text\/xml/);
      const verdict = validateWithXsd(r.text, THUNDERBIRD_XSD);
      assert.ok(verdict.valid, verdict.messages);
    });

    it("offers IMAP 993 SSL then 143 STARTTLS and SMTP 465 SSL then 587 STARTTLS on the first MX host, logging in with the address", async () => {
      const r = await requestWithHost(edge.url, { path: "/mail/config-v1.1.xml", host: "autoconfig.example.org" });
      const config = thunderbirdServers(r.text);
      assert.equal(config.id, "example.org");
      assert.deepEqual(config.domains, ["example.org"]);
      assert.match(config.displayName, /example\.org/);
      const common = { type: "imap", hostname: "mx1.example.org", username: "%EMAILADDRESS%", authentication: ["password-cleartext"] };
      assert.deepEqual(config.incoming, [
        { ...common, port: 993, socketType: "SSL" },
        { ...common, port: 143, socketType: "STARTTLS" },
      ]);
      assert.deepEqual(config.outgoing, [
        { ...common, type: "smtp", port: 465, socketType: "SSL" },
        { ...common, type: "smtp", port: 587, socketType: "STARTTLS" },
      ]);
    });

    it("serves the same file at /.well-known/autoconfig/ on the domain itself and on autoconfig.<domain>", async () => {
      const canonical = await requestWithHost(edge.url, { path: "/mail/config-v1.1.xml", host: "autoconfig.example.org" });
      for (const host of ["example.org", "autoconfig.example.org:443"]) {
        const r = await requestWithHost(edge.url, { path: "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=bob%40example.org", host });
        assert.equal(r.status, 200, host);
        assert.equal(r.text, canonical.text, host);
      }
    });

    it("answers 404 for a domain we do not serve, and for /mail/ on a host that is not autoconfig.*", async () => {
      for (const [path, host] of [
        ["/mail/config-v1.1.xml", "autoconfig.unknown.test"],
        ["/.well-known/autoconfig/mail/config-v1.1.xml", "unknown.test"],
        ["/.well-known/autoconfig/mail/config-v1.1.xml", "autoconfig.unknown.test"],
        ["/mail/config-v1.1.xml", "example.org"],
      ] as const) {
        const r = await requestWithHost(edge.url, { path, host });
        assert.equal(r.status, 404, `${host}${path}`);
        assert.equal(errorCode(r), "not_found");
      }
    });

    it("makes users of a mirror domain log in at the mirrored domain, where their accounts are", async () => {
      const r = await requestWithHost(edge.url, { path: "/mail/config-v1.1.xml", host: "autoconfig.mirror.test" });
      assert.equal(r.status, 200);
      assert.ok(validateWithXsd(r.text, THUNDERBIRD_XSD).valid);
      const config = thunderbirdServers(r.text);
      assert.equal(config.id, "mirror.test");
      for (const s of [...config.incoming, ...config.outgoing]) {
        assert.equal(s.username, "%EMAILLOCALPART%@example.org");
        assert.equal(s.hostname, "mx1.example.org");
      }
    });
  });

  describe("Outlook Autodiscover", () => {
    it("answers a real request with IMAP 993 and SMTP 465 over SSL, logging in with the address", async () => {
      const r = await requestWithHost(edge.url, {
        method: "POST",
        path: "/autodiscover/autodiscover.xml",
        host: "autodiscover.example.org",
        headers: { "content-type": "text/xml; charset=utf-8" },
        body: outlookRequest("Alice@Example.org"),
      });
      assert.equal(r.status, 200, r.text);
      assert.match(r.headers["content-type"]!, /^text\/xml/);
      const p = autodiscoverProtocols(r.text);
      assert.deepEqual(Object.keys(p).sort(), ["IMAP", "SMTP"]);
      const common = { Server: "mx1.example.org", LoginName: "alice@example.org", SPA: "off", SSL: "on", AuthRequired: "on", DomainRequired: "off" };
      assert.deepEqual({ ...p.IMAP }, { Type: "IMAP", Port: "993", ...common });
      assert.deepEqual({ ...p.SMTP }, { Type: "SMTP", Port: "465", ...common, UsePOPAuth: "off", SMTPLast: "off" });
    });

    it("accepts Outlook's other spelling of the path, on the domain's own host, and escapes the address it echoes", async () => {
      const r = await requestWithHost(edge.url, {
        method: "POST",
        path: "/Autodiscover/Autodiscover.xml",
        host: "example.org",
        body: outlookRequest(ODD),
      });
      assert.equal(r.status, 200, r.text);
      const p = autodiscoverProtocols(r.text);
      assert.equal(p.IMAP!.LoginName, ODD);
      assert.equal(p.SMTP!.LoginName, ODD);
    });

    it("gives the mirrored domain's login name for an address of a mirror domain", async () => {
      const r = await requestWithHost(edge.url, { method: "POST", path: "/autodiscover/autodiscover.xml", host: "autodiscover.mirror.test", body: outlookRequest("bob@mirror.test") });
      assert.equal(r.status, 200, r.text);
      assert.equal(autodiscoverProtocols(r.text).IMAP!.LoginName, "bob@example.org");
    });

    it("answers 400 with a reason for bodies that are not well-formed requests with an address", async () => {
      const cases: [string, string, RegExp][] = [
        ["not XML", "this is not xml", /well-formed/],
        ["mismatched tags", `<Autodiscover xmlns="${REQUEST_NS}"><Request><EMailAddress>alice@example.org</Request></EMailAddress></Autodiscover>`, /not well-formed XML: Expected closing tag/],
        ["unclosed", `<Autodiscover xmlns="${REQUEST_NS}"><Request><EMailAddress>alice@example.org</EMailAddress>`, /not well-formed XML: elements never closed: <Autodiscover>, <Request>/],
        [
          "an external entity",
          `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><Autodiscover xmlns="${REQUEST_NS}"><Request><EMailAddress>&x;</EMailAddress></Request></Autodiscover>`,
          /DTD/,
        ],
        ["no address", `<Autodiscover xmlns="${REQUEST_NS}"><Request/></Autodiscover>`, /EMailAddress/],
        ["not an address", `<Autodiscover xmlns="${REQUEST_NS}"><Request><EMailAddress>alice</EMailAddress></Request></Autodiscover>`, /not an email address/],
        ["another root", `<Foo xmlns="${REQUEST_NS}"><Request><EMailAddress>alice@example.org</EMailAddress></Request></Foo>`, /Root element/],
        [
          "the ActiveSync schema",
          outlookRequest("alice@example.org").replace(`>${OUTLOOK_NS}<`, ">http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006<"),
          /response schema/,
        ],
        ["an empty body", "", /well-formed/],
      ];
      for (const [what, body, reason] of cases) {
        const r = await requestWithHost(edge.url, { method: "POST", path: "/autodiscover/autodiscover.xml", host: "autodiscover.example.org", body });
        assert.equal(r.status, 400, what);
        assert.equal(errorCode(r), "bad_request", what);
        assert.match(errorMessage(r), reason, what);
      }
    });

    it("answers 404 for an address of a domain we do not serve", async () => {
      const r = await requestWithHost(edge.url, { method: "POST", path: "/autodiscover/autodiscover.xml", host: "autodiscover.example.org", body: outlookRequest("alice@unknown.test") });
      assert.equal(r.status, 404);
      assert.equal(errorCode(r), "not_found");
    });

    it("refuses a body over 16 KiB with 413, whether its length is declared or not", async () => {
      const padding = `<!-- ${"x".repeat(17 * 1024)} -->`;
      for (const headers of [{}, { "transfer-encoding": "chunked" }] as Record<string, string>[]) {
        const r = await requestWithHost(edge.url, {
          method: "POST",
          path: "/autodiscover/autodiscover.xml",
          host: "autodiscover.example.org",
          headers,
          body: outlookRequest("alice@example.org") + padding,
        });
        assert.equal(r.status, 413, JSON.stringify(headers));
        assert.equal(errorCode(r), "too_large");
      }
    });
  });

  describe("Apple configuration profile", () => {
    const path = "/apple/mail.mobileconfig";

    it("is a property list with one com.apple.mail.managed payload for the authenticated account, without its password", async () => {
      const r = await requestWithHost(edge.url, { path, host: "autoconfig.example.org", headers: { authorization: basic("alice@example.org", PASSWORD) } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers["content-type"], "application/x-apple-aspen-config");
      assert.equal(r.headers["cache-control"], "no-store");
      assert.ok(!r.text.includes(PASSWORD), "the password must never be in the profile");
      const profile = parsePlist(r.text) as Profile;
      assert.equal(profile.PayloadType, "Configuration");
      assert.equal(profile.PayloadVersion, 1);
      assert.equal(profile.PayloadUUID, pythonUuid5(PROFILE_UUID_NAMESPACE, "profile alice@example.org"));
      assert.match(String(profile.PayloadIdentifier), /^org\.example\./);
      assert.equal(profile.PayloadContent.length, 1);
      const mail = profile.PayloadContent[0]!;
      assert.equal(mail.PayloadUUID, pythonUuid5(PROFILE_UUID_NAMESPACE, "mail alice@example.org"));
      assert.match(String(mail.PayloadIdentifier), /^org\.example\./);
      assert.deepEqual(
        Object.fromEntries(Object.entries(mail).filter(([k]) => !/^Payload(UUID|Identifier|Description|DisplayName)$/.test(k))),
        {
          EmailAccountDescription: "alice@example.org",
          EmailAccountType: "EmailTypeIMAP",
          EmailAddress: "alice@example.org",
          IncomingMailServerAuthentication: "EmailAuthPassword",
          IncomingMailServerHostName: "mx1.example.org",
          IncomingMailServerPortNumber: 993,
          IncomingMailServerUseSSL: true,
          IncomingMailServerUsername: "alice@example.org",
          OutgoingMailServerAuthentication: "EmailAuthPassword",
          OutgoingMailServerHostName: "mx1.example.org",
          OutgoingMailServerPortNumber: 465,
          OutgoingMailServerUseSSL: true,
          OutgoingMailServerUsername: "alice@example.org",
          OutgoingPasswordSameAsIncomingPassword: true,
          PayloadType: "com.apple.mail.managed",
          PayloadVersion: 1,
        },
      );
    });

    it("keeps its identifiers across downloads, so a new download replaces the installed profile, and differs per account", async () => {
      const ids = async (user: string) => {
        const r = await requestWithHost(edge.url, { path, host: "example.org", headers: { authorization: basic(user, PASSWORD) } });
        assert.equal(r.status, 200, r.text);
        const p = parsePlist(r.text) as Profile;
        return [p.PayloadUUID, p.PayloadIdentifier, p.PayloadContent[0]!.PayloadUUID, p.PayloadContent[0]!.PayloadIdentifier];
      };
      const first = await ids("alice@example.org");
      assert.deepEqual(await ids("ALICE@example.org"), first);
      const bob = await ids("bob@example.org");
      for (let i = 0; i < first.length; i++) assert.notEqual(bob[i], first[i]);
    });

    it("escapes an address that XML would otherwise misread", async () => {
      const r = await requestWithHost(edge.url, { path, host: "example.org", headers: { authorization: basic(ODD, PASSWORD) } });
      assert.equal(r.status, 200, r.text);
      const mail = (parsePlist(r.text) as Profile).PayloadContent[0]!;
      assert.equal(mail.EmailAddress, ODD);
      assert.equal(mail.IncomingMailServerUsername, ODD);
    });

    it("answers 401 with a Basic challenge and an ApiError without, or with wrong, credentials", async () => {
      for (const [what, authorization] of [
        ["no credentials", undefined],
        ["a wrong password", basic("alice@example.org", "wrong password")],
        ["an unknown user", basic("nobody@example.org", PASSWORD)],
        ["a malformed header", "Basic !!!"],
        ["another scheme", "Bearer abc"],
      ] as const) {
        const r = await requestWithHost(edge.url, { path, host: "example.org", headers: authorization ? { authorization } : {} });
        assert.equal(r.status, 401, what);
        assert.equal(r.headers["www-authenticate"], 'Basic realm="edgemail"', what);
        assert.equal(errorCode(r), "auth_failed", what);
      }
    });

    it("stops password guessing: 5 failures lock the address, 20 lock the client, with 429 and Retry-After even for the right password", async () => {
      assert.equal((await edge.admin("POST", "/accounts", { address: "guessed@example.org", password: PASSWORD })).status, 201);
      const attempt = (address: string, password: string, ip: string) =>
        requestWithHost(edge.url, { path, host: "example.org", headers: { authorization: basic(address, password), "cf-connecting-ip": ip } });
      for (let i = 0; i < 5; i++) assert.equal((await attempt("guessed@example.org", `guess ${i}`, "192.0.2.1")).status, 401, `guess ${i}`);
      const locked = await attempt("guessed@example.org", PASSWORD, "192.0.2.9");
      assert.equal(locked.status, 429, "the address is locked, whatever the client");
      assert.equal(errorCode(locked), "rate_limited");
      const wait = Number(locked.headers["retry-after"]);
      assert.ok(wait > 0 && wait <= 900, `Retry-After ${locked.headers["retry-after"]}`);
      assert.equal((await attempt("alice@example.org", PASSWORD, "192.0.2.1")).status, 200, "another address from the same client still logs in");

      for (let i = 0; i < 20; i++) assert.equal((await attempt(`nobody${i}@example.org`, "x", "192.0.2.3")).status, 401);
      assert.equal((await attempt("alice@example.org", PASSWORD, "192.0.2.3")).status, 429, "the client is locked for every address");
      assert.equal((await attempt("alice@example.org", PASSWORD, "192.0.2.4")).status, 200, "other clients are not");
    });
  });

  it("follows a change of the domain's mxHosts in all three formats", async () => {
    await setDomainSettings(edge, "example.org", { mxHosts: ["imap.example.net", "mx1.example.org"] });
    try {
      const tb = thunderbirdServers((await requestWithHost(edge.url, { path: "/mail/config-v1.1.xml", host: "autoconfig.example.org" })).text);
      assert.deepEqual(
        [...tb.incoming, ...tb.outgoing].map((s) => s.hostname),
        ["imap.example.net", "imap.example.net", "imap.example.net", "imap.example.net"],
      );
      const ad = autodiscoverProtocols(
        (await requestWithHost(edge.url, { method: "POST", path: "/autodiscover/autodiscover.xml", host: "autodiscover.example.org", body: outlookRequest("alice@example.org") })).text,
      );
      assert.equal(ad.IMAP!.Server, "imap.example.net");
      assert.equal(ad.SMTP!.Server, "imap.example.net");
      const apple = await requestWithHost(edge.url, { path: "/apple/mail.mobileconfig", host: "example.org", headers: { authorization: basic("alice@example.org", PASSWORD) } });
      const mail = (parsePlist(apple.text) as Profile).PayloadContent[0]!;
      assert.equal(mail.IncomingMailServerHostName, "imap.example.net");
      assert.equal(mail.OutgoingMailServerHostName, "imap.example.net");
    } finally {
      await setDomainSettings(edge, "example.org", { mxHosts: ["mx1.example.org", "mx2.example.org"] });
    }
  });
});
