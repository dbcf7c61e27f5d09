/**
 * TLS-RPT (RFC 8460) and DMARC aggregate (RFC 7489) reports against a real edge: posted over
 * HTTPS to /tls-reports, and mailed to the report address through the relay API the MX uses
 * (blob upload + POST /relay/v1/deliveries); summaries under /admin/v1/reports checked to the
 * number; every bad report refused with its reason and nothing of it stored.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { zipSync } from "fflate";
import type { Account, DmarcReportSummary, MailboxSnapshot, RecipientCheckResult, TlsReportSummary } from "../../common/contract.ts";
import { checkRecipient, createAccounts, deliverFrom, setDomainSettings, startTestEdge, type TestEdge } from "../support/edge-api.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/reports/${name}`, import.meta.url));
const ALL_TIME = "since=0&until=9999999999999";
const MIB = 1024 * 1024;

/** A report mail as senders write them: a text part and the report as a base64 attachment. */
function reportMail(part: { type: string; filename?: string; content: Uint8Array }, options: { tlsrpt?: boolean; tag?: string; to?: string } = {}): Uint8Array {
  const boundary = "=_report_boundary_0123";
  const base64 = Buffer.from(part.content).toString("base64").replace(/.{76}/g, "$&\r\n");
  const contentType = options.tlsrpt ? `multipart/report; report-type="tlsrpt"; boundary="${boundary}"` : `multipart/mixed; boundary="${boundary}"`;
  const disposition = part.filename ? `Content-Disposition: attachment; filename="${part.filename}"\r\n` : "";
  return Buffer.from(
    `From: reports@reporter.example\r\nTo: ${options.to ?? "reports@edgemail.test"}\r\nSubject: Report ${options.tag ?? ""}\r\n` +
      `Message-ID: <${options.tag ?? "r"}.${Math.random()}@reporter.example>\r\nMIME-Version: 1.0\r\nContent-Type: ${contentType}\r\n\r\n` +
      `--${boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThis is an aggregate report.\r\n` +
      `--${boundary}\r\nContent-Type: ${part.type}\r\nContent-Transfer-Encoding: base64\r\n${disposition}\r\n${base64}\r\n` +
      `--${boundary}--\r\n`,
  );
}

/** A fixture with its report id (and, for DMARC, its date range) replaced: a different report. */
function variant(name: string, reportId: string, range?: { begin: number; end: number }): Buffer {
  let text = fixture(name).toString("utf8");
  text = text.replace(/<report_id>[^<]*<\/report_id>/, `<report_id>${reportId}</report_id>`).replace(/"report-id": "[^"]*"/, `"report-id": "${reportId}"`);
  if (range) text = text.replace(/<begin>\d+<\/begin>/, `<begin>${range.begin}</begin>`).replace(/<end>\d+<\/end>/, `<end>${range.end}</end>`);
  return Buffer.from(text);
}

describe("TLS-RPT and DMARC aggregate reports", () => {
  let edge: TestEdge;
  let alice: Account;
  let key = 0;

  const postTls = async (body: Uint8Array | string, type: string) => {
    const res = await fetch(`${edge.url}/tls-reports`, { method: "POST", headers: { "content-type": type }, body });
    return { status: res.status, body: (await res.json()) as { organization?: string; reportId?: string; duplicate?: boolean; error?: { code: string; message: string } } };
  };
  /** POST /tls-reports that sends `chunks` and then waits for the answer without ending the body. */
  const postUnfinished = (headers: Record<string, string>, chunks: Buffer[]) =>
    new Promise<{ status: number; error?: { code: string; message: string } }>((resolve, reject) => {
      const url = new URL(`${edge.url}/tls-reports`);
      const req = httpRequest({ method: "POST", host: url.hostname, port: url.port, path: url.pathname, headers: { "content-type": "application/tlsrpt+json", ...headers } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, error: (JSON.parse(text) as { error?: { code: string; message: string } }).error });
        });
      });
      req.on("error", reject);
      req.flushHeaders();
      for (const c of chunks) req.write(c);
    });
  const tls = async (query = ALL_TIME) => {
    const r = await edge.admin<TlsReportSummary>("GET", `/reports/tls?${query}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const dmarc = async (query = ALL_TIME) => {
    const r = await edge.admin<DmarcReportSummary>("GET", `/reports/dmarc?${query}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const mail = (raw: Uint8Array, recipients = ["reports@edgemail.test"], idempotencyKey = `report-${++key}`) => deliverFrom(edge, raw, recipients, idempotencyKey);
  const inbox = async () => (await edge.relay<MailboxSnapshot>("POST", `/accounts/${alice.id}/mailboxes/select`, { name: "INBOX" })).body.messages.length;

  /** Runs `attempt`, expects it refused with `status` and a message matching `reason`, and nothing stored. */
  async function refusedWithNothingStored(attempt: () => Promise<{ status: number; error?: { code: string; message: string } | undefined }>, status: number, reason: RegExp) {
    const [tlsBefore, dmarcBefore, inboxBefore] = [await tls(), await dmarc(), await inbox()];
    const r = await attempt();
    assert.equal(r.status, status, JSON.stringify(r));
    assert.match(r.error?.message ?? "", reason);
    assert.deepEqual(await tls(), tlsBefore);
    assert.deepEqual(await dmarc(), dmarcBefore);
    assert.equal(await inbox(), inboxBefore);
  }

  before(async () => {
    edge = await startTestEdge();
    alice = (await createAccounts(edge, ["alice@edgemail.test"]))[0]!;
    assert.equal((await edge.admin("POST", "/domains", { name: "other.test" })).status, 201);
  });
  after(async () => {
    await edge?.stop();
  });

  describe("over HTTPS (POST /tls-reports)", () => {
    it("stores the RFC 8460 example as application/tlsrpt+json with 201, and sums it per policy", async () => {
      const r = await postTls(fixture("rfc8460-example.json"), "application/tlsrpt+json");
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual(r.body, { organization: "Company-X", reportId: "5065427c-23d3-47ca-b6e0-946ea0e8c4be", duplicate: false });
      const summary = await tls(`domain=edgemail.test&${ALL_TIME}`);
      assert.equal(summary.domain, "edgemail.test");
      assert.equal(summary.reports, 1);
      assert.deepEqual(summary.rows, [
        {
          organization: "Company-X",
          policyType: "sts",
          policyDomain: "edgemail.test",
          reports: 1,
          successes: 5326,
          failures: 303,
          failureTypes: { "certificate-expired": 100, "starttls-not-supported": 200, "validation-failure": 3 },
        },
      ]);
    });

    it("answers the same report again, gzipped, with 200 duplicate and counts it once", async () => {
      const r = await postTls(gzipSync(fixture("rfc8460-example.json")), "application/tlsrpt+gzip; charset=utf-8");
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.duplicate, true);
      const summary = await tls();
      assert.equal(summary.reports, 1);
      assert.equal(summary.rows[0]!.successes, 5326);
    });

    it("stores a gzipped report with an sts and a tlsa policy as separate rows", async () => {
      const r = await postTls(gzipSync(fixture("tlsrpt-two-policies.json")), "application/tlsrpt+gzip");
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const summary = await tls(`domain=edgemail.test&${ALL_TIME}`);
      assert.equal(summary.reports, 2);
      assert.deepEqual(summary.rows, [
        {
          organization: "Company-X",
          policyType: "sts",
          policyDomain: "edgemail.test",
          reports: 1,
          successes: 5326,
          failures: 303,
          failureTypes: { "certificate-expired": 100, "starttls-not-supported": 200, "validation-failure": 3 },
        },
        {
          organization: "Mail Provider Inc.",
          policyType: "sts",
          policyDomain: "edgemail.test",
          reports: 1,
          successes: 1000,
          failures: 7,
          failureTypes: { "certificate-expired": 5, "sts-webpki-invalid": 2 },
        },
        { organization: "Mail Provider Inc.", policyType: "tlsa", policyDomain: "edgemail.test", reports: 1, successes: 20, failures: 0, failureTypes: {} },
      ]);
      // The range is on start-datetime: the second report started on 2016-04-02.
      const firstDay = await tls(`since=${Date.parse("2016-04-01T00:00:00Z")}&until=${Date.parse("2016-04-02T00:00:00Z")}`);
      assert.equal(firstDay.reports, 1);
      assert.deepEqual(firstDay.rows.map((row) => row.organization), ["Company-X"]);
      assert.deepEqual(await tls(`domain=other.test&${ALL_TIME}`), { domain: "other.test", since: 0, until: 9999999999999, reports: 0, rows: [] });
    });

    it("refuses a Content-Type other than application/tlsrpt+gzip or +json with 400", async () => {
      await refusedWithNothingStored(async () => {
        const r = await postTls(variant("rfc8460-example.json", "ct-1"), "application/json");
        return { status: r.status, error: r.body.error };
      }, 400, /Content-Type must be application\/tlsrpt\+gzip or application\/tlsrpt\+json/);
    });

    it("refuses application/tlsrpt+gzip that is not gzip with 400", async () => {
      await refusedWithNothingStored(async () => {
        const r = await postTls(variant("rfc8460-example.json", "not-gzip-1"), "application/tlsrpt+gzip");
        return { status: r.status, error: r.body.error };
      }, 400, /not gzip/);
    });

    it("refuses a truncated gzip with 400", async () => {
      const gz = gzipSync(variant("rfc8460-example.json", "truncated-1"));
      await refusedWithNothingStored(async () => {
        const r = await postTls(gz.subarray(0, gz.byteLength - 40), "application/tlsrpt+gzip");
        return { status: r.status, error: r.body.error };
      }, 400, /not valid gzip/);
    });

    it("refuses application/tlsrpt+json that is not JSON with 400", async () => {
      await refusedWithNothingStored(async () => {
        const r = await postTls("{ this is not json", "application/tlsrpt+json");
        return { status: r.status, error: r.body.error };
      }, 400, /not JSON/);
    });

    it("refuses JSON that does not match the RFC 8460 schema with 400 naming the fields", async () => {
      await refusedWithNothingStored(async () => {
        const r = await postTls(fixture("tlsrpt-bad-schema.json"), "application/tlsrpt+json");
        return { status: r.status, error: r.body.error };
      }, 400, /does not match RFC 8460: .*end-datetime.*report-id/);
    });

    it("refuses a report with a policy for a domain we do not serve with 400, storing none of its policies", async () => {
      await refusedWithNothingStored(async () => {
        const r = await postTls(fixture("tlsrpt-foreign-domain.json"), "application/tlsrpt+json");
        return { status: r.status, error: r.body.error };
      }, 400, /about company-y\.example, which is not a domain served here/);
    });

    it("cuts a gzip bomb (100 MiB of zeros) off while inflating with 413", async () => {
      const bomb = gzipSync(Buffer.alloc(100 * MIB));
      assert.ok(bomb.byteLength < 200 * 1024);
      await refusedWithNothingStored(async () => {
        const r = await postTls(bomb, "application/tlsrpt+gzip");
        return { status: r.status, error: r.body.error };
      }, 413, /inflates beyond 20 MiB/);
    });

    it("refuses a body over 5 MiB with 413, by its Content-Length or, without one, by what it read", async () => {
      // Neither request ever ends its body: the edge must answer from the header, or from the
      // octets it counted, and not wait for the rest.
      await refusedWithNothingStored(() => postUnfinished({ "content-length": String(5 * MIB + 1) }, []), 413, /at most 5 MiB/);
      // Just past the limit, so the edge has read all that was sent when it answers.
      const chunks = [...Array.from({ length: 5 }, () => Buffer.alloc(MIB, 0x20)), Buffer.alloc(64 * 1024, 0x20)];
      await refusedWithNothingStored(() => postUnfinished({ "transfer-encoding": "chunked" }, chunks), 413, /at most 5 MiB/);
    });
  });

  describe("by mail to the report address (POST /relay/v1/deliveries)", () => {
    it("accepts the report address of every domain at RCPT, as the domain's reportLocalPart says", async () => {
      for (const address of ["reports@edgemail.test", "REPORTS@other.test"]) {
        const r = await checkRecipient(edge, address);
        assert.equal(r.result, "local", address);
        assert.equal((r as Extract<RecipientCheckResult, { result: "local" }>).accountId, null);
      }
      await setDomainSettings(edge, "other.test", { reportLocalPart: "dmarc" });
      assert.equal((await checkRecipient(edge, "dmarc@other.test")).result, "local");
      assert.equal((await checkRecipient(edge, "reports@other.test")).result, "unknown_user");
      await setDomainSettings(edge, "other.test", { reportLocalPart: "reports" });
      assert.equal((await checkRecipient(edge, "reports@other.test")).result, "local");
    });

    it("stores a gzipped DMARC report (the RFC 7489 sample) with the delivery, filing nothing", async () => {
      const raw = reportMail({ type: "application/gzip", filename: "acme.com!edgemail.test!1335571200!1335657599.xml.gz", content: gzipSync(fixture("rfc7489-sample.xml")) });
      const r = await mail(raw);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.stored, []);
      const summary = await dmarc(`domain=edgemail.test&${ALL_TIME}`);
      assert.equal(summary.reports, 1);
      assert.deepEqual(summary.rows, [
        { sourceIp: "72.150.241.94", organization: "acme.com", messages: 2, spfAligned: 2, dkimAligned: 0, dispositions: { none: 2, quarantine: 0, reject: 0 } },
      ]);
    });

    it("stores a zipped DMARC report with several records and sums them per source and organization", async () => {
      const zip = zipSync({ "mail-and-co.example!edgemail.test!1335657600!1335743999.xml": fixture("dmarc-multi.xml") });
      const r = await mail(reportMail({ type: "application/zip", filename: "mail-and-co.example!edgemail.test!1335657600!1335743999.zip", content: zip }));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const summary = await dmarc(`domain=edgemail.test&${ALL_TIME}`);
      assert.equal(summary.reports, 2);
      assert.deepEqual(summary.rows, [
        { sourceIp: "192.0.2.10", organization: "Mail & Co", messages: 15, spfAligned: 10, dkimAligned: 15, dispositions: { none: 15, quarantine: 0, reject: 0 } },
        { sourceIp: "203.0.113.20", organization: "Mail & Co", messages: 7, spfAligned: 4, dkimAligned: 0, dispositions: { none: 0, quarantine: 3, reject: 4 } },
        { sourceIp: "72.150.241.94", organization: "acme.com", messages: 2, spfAligned: 2, dkimAligned: 0, dispositions: { none: 2, quarantine: 0, reject: 0 } },
        { sourceIp: "2001:db8::25", organization: "Mail & Co", messages: 1, spfAligned: 0, dkimAligned: 0, dispositions: { none: 0, quarantine: 0, reject: 1 } },
      ]);
    });

    it("reads a plain text/xml report and a mislabelled one (octet-stream named .xml.gz)", async () => {
      const plain = await mail(reportMail({ type: "text/xml", filename: "plain.xml", content: variant("rfc7489-sample.xml", "plain-xml-1") }));
      assert.equal(plain.status, 200, JSON.stringify(plain.body));
      const named = await mail(reportMail({ type: "application/octet-stream", filename: "x!edgemail.test!1!2.xml.gz", content: gzipSync(variant("rfc7489-sample.xml", "octet-1")) }));
      assert.equal(named.status, 200, JSON.stringify(named.body));
      const summary = await dmarc(ALL_TIME);
      assert.equal(summary.reports, 4);
      assert.deepEqual(summary.rows.find((row) => row.sourceIp === "72.150.241.94"), {
        sourceIp: "72.150.241.94",
        organization: "acme.com",
        messages: 6,
        spfAligned: 6,
        dkimAligned: 0,
        dispositions: { none: 6, quarantine: 0, reject: 0 },
      });
    });

    it("stores a TLS-RPT mail (multipart/report, application/tlsrpt+gzip) and counts a report seen over HTTPS once", async () => {
      const before = await tls();
      const fresh = variant("rfc8460-example.json", "by-mail-1");
      const r = await mail(reportMail({ type: "application/tlsrpt+gzip", filename: "company-x.example!edgemail.test!1459468800!1459555199.json.gz", content: gzipSync(fresh) }, { tlsrpt: true }));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const again = await mail(reportMail({ type: "application/tlsrpt+json", content: fixture("rfc8460-example.json") }, { tlsrpt: true }));
      assert.equal(again.status, 200, JSON.stringify(again.body));
      const after = await tls();
      assert.equal(after.reports, before.reports + 1);
      const row = after.rows.find((x) => x.organization === "Company-X")!;
      assert.equal(row.reports, 2);
      assert.equal(row.successes, 2 * 5326);
      assert.deepEqual(row.failureTypes, { "certificate-expired": 200, "starttls-not-supported": 400, "validation-failure": 6 });
    });

    it("stores nothing new for a replayed delivery or the same report in another mail", async () => {
      const raw = reportMail({ type: "application/gzip", filename: "r.xml.gz", content: gzipSync(variant("dmarc-multi.xml", "replayed-1")) });
      const first = await mail(raw, ["reports@edgemail.test"], "replay-key");
      assert.equal(first.status, 200);
      const summary = await dmarc();
      const replay = await mail(raw, ["reports@edgemail.test"], "replay-key");
      assert.equal(replay.status, 200);
      assert.equal(replay.body.duplicate, true);
      assert.equal(replay.body.deliveryId, first.body.deliveryId);
      const resent = await mail(reportMail({ type: "application/gzip", filename: "r.xml.gz", content: gzipSync(variant("dmarc-multi.xml", "replayed-1")) }));
      assert.equal(resent.status, 200);
      assert.equal(resent.body.duplicate, false);
      assert.deepEqual(await dmarc(), summary);
    });

    it("files a copy for an ordinary recipient of the same message and stores the report once for two report addresses", async () => {
      const before = await inbox();
      const raw = reportMail({ type: "application/gzip", filename: "r.xml.gz", content: gzipSync(variant("rfc7489-sample.xml", "mixed-1")) });
      const r = await mail(raw, ["reports@edgemail.test", "alice@edgemail.test", "reports@other.test"]);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.stored.map((s) => s.recipient), ["alice@edgemail.test"]);
      assert.equal(await inbox(), before + 1);
      const summary = await dmarc(ALL_TIME);
      assert.equal(summary.rows.find((row) => row.sourceIp === "72.150.241.94")!.messages, 8);
    });

    it("refuses malformed XML with 400 and the parser's reason, also when an ordinary recipient is in the envelope", async () => {
      await refusedWithNothingStored(
        () => mail(reportMail({ type: "text/xml", filename: "bad.xml", content: fixture("dmarc-malformed.xml") }), ["reports@edgemail.test", "alice@edgemail.test"]),
        400,
        /not well-formed XML: Expected closing tag 'row'/,
      );
    });

    it("refuses XML with a DOCTYPE (entity expansion, external entities) with 400", async () => {
      await refusedWithNothingStored(() => mail(reportMail({ type: "application/xml", filename: "lol.xml", content: fixture("dmarc-doctype-entities.xml") })), 400, /DOCTYPE/);
    });

    it("refuses XML that does not match the schema with 400 naming the fields", async () => {
      await refusedWithNothingStored(
        () => mail(reportMail({ type: "application/gzip", filename: "x.xml.gz", content: gzipSync(fixture("dmarc-bad-schema.xml")) })),
        400,
        /appendix C: feedback\.record\.0\.row\.source_ip.*count/,
      );
    });

    it("refuses a report about a domain we do not serve with 400", async () => {
      await refusedWithNothingStored(
        () => mail(reportMail({ type: "application/zip", filename: "x.zip", content: zipSync({ "x.xml": fixture("dmarc-foreign-domain.xml") }) })),
        400,
        /about not-ours\.example, which is not a domain served here/,
      );
    });

    it("refuses a TLS-RPT mail whose JSON does not match the schema with 400", async () => {
      await refusedWithNothingStored(() => mail(reportMail({ type: "application/tlsrpt+json", content: fixture("tlsrpt-bad-schema.json") }, { tlsrpt: true })), 400, /RFC 8460/);
    });

    it("refuses a mail without a report with 400", async () => {
      const raw = Buffer.from("From: someone@remote.test\r\nTo: reports@edgemail.test\r\nSubject: hello\r\n\r\nJust saying hi.\r\n");
      await refusedWithNothingStored(() => mail(raw), 400, /holds no report/);
    });

    it("cuts a zip bomb off while inflating with 413", async () => {
      const bomb = zipSync({ "bomb.xml": new Uint8Array(100 * MIB) }, { level: 9 });
      assert.ok(bomb.byteLength < 200 * 1024);
      await refusedWithNothingStored(() => mail(reportMail({ type: "application/zip", filename: "bomb.zip", content: bomb })), 413, /inflates beyond 20 MiB/);
    });

    it("cuts a gzip bomb in a mail off while inflating with 413", async () => {
      const bomb = gzipSync(Buffer.alloc(100 * MIB));
      await refusedWithNothingStored(() => mail(reportMail({ type: "application/gzip", filename: "bomb.xml.gz", content: bomb })), 413, /inflates beyond 20 MiB/);
    });
  });

  describe("summaries (GET /admin/v1/reports/tls, /dmarc)", () => {
    it("cover the last 30 days by default", async () => {
      const now = Math.floor(Date.now() / 1000);
      const recent = variant("rfc7489-sample.xml", "recent-1", { begin: now - 2 * 86400, end: now - 86400 });
      assert.equal((await mail(reportMail({ type: "text/xml", filename: "recent.xml", content: recent }))).status, 200);
      const summary = await dmarc("");
      assert.equal(summary.domain, null);
      assert.ok(summary.until - summary.since === 30 * 86400 * 1000);
      assert.equal(summary.reports, 1);
      assert.deepEqual(summary.rows, [
        { sourceIp: "72.150.241.94", organization: "acme.com", messages: 2, spfAligned: 2, dkimAligned: 0, dispositions: { none: 2, quarantine: 0, reject: 0 } },
      ]);
      assert.deepEqual((await tls("")).rows, []);
    });

    it("answer 400 naming a malformed since or until, and 404 for a domain we do not serve", async () => {
      for (const [query, reason] of [
        ["since=yesterday", /since/],
        ["until=-5", /until/],
        ["since=2000&until=1000", /since is after until/],
      ] as const) {
        for (const kind of ["tls", "dmarc"]) {
          const r = await edge.admin("GET", `/reports/${kind}?${query}`);
          assert.equal(r.status, 400, `${kind}?${query}`);
          assert.match(r.error?.message ?? "", reason);
        }
      }
      for (const kind of ["tls", "dmarc"]) {
        const r = await edge.admin("GET", `/reports/${kind}?domain=unknown.test`);
        assert.equal(r.status, 404);
        assert.equal(r.error?.code, "not_found");
      }
    });

    it("need the admin token", async () => {
      assert.equal((await edge.admin("GET", "/reports/dmarc", undefined, null)).status, 401);
    });
  });
});
