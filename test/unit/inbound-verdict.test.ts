/**
 * The MX's verdict on incoming mail (relay/smtp/inbound-verdict.ts): per check the strictest
 * action among the recipients' domains, reject before quarantine before accept, DMARC pct, and
 * DNS temperrors never rejecting. Also the pure helpers of inbound-authentication.ts: removing
 * Authentication-Results fields that claim our hostname, iprev with an injected resolver, and
 * authenticateInbound with an in-memory DNS (SPF, DKIM RSA/ed25519, DMARC, temperror, timeout).
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { dkimSign } from "mailauth";
import { InboundPolicy } from "../../common/contract.ts";
import {
  authenticateInbound,
  authservIdOf,
  iprev,
  removeOwnAuthenticationResults,
  reverseName,
  type MailauthResolver,
} from "../../relay/smtp/inbound-authentication.ts";
import { allDkimSignaturesFail, applyDmarcPct, decideVerdict, type VerdictInput } from "../../relay/smtp/inbound-verdict.ts";

const defaults = InboundPolicy.parse({});
const policy = (overrides: Partial<InboundPolicy> = {}): InboundPolicy => ({ ...defaults, ...overrides });

/** DKIM signatures by the author's own domain, one per result keyword. */
const sigs = (...results: string[]) => results.map((result) => ({ result, domain: "sender.example" }));

function input(overrides: Partial<VerdictInput> = {}): VerdictInput {
  return {
    policies: [defaults],
    spf: "pass",
    spfDomain: "sender.example",
    dkim: sigs("pass"),
    dmarc: "pass",
    dmarcOrgDomain: "sender.example",
    dmarcPolicy: "reject",
    dmarcPct: null,
    pctSample: 0,
    dnsbl: [],
    ...overrides,
  };
}

describe("inbound verdict", () => {
  it("accepts a message that passes everything", () => {
    assert.deepEqual(decideVerdict(input()), { action: "accept", reasons: [] });
  });

  it("DMARC fail with p=reject rejects under the default policy, with a 5.7.1 text", () => {
    const v = decideVerdict(input({ spf: "fail", dkim: [], dmarc: "fail", dmarcPolicy: "reject" }));
    assert.equal(v.action, "reject");
    assert.deepEqual(v.reasons, ["dmarc"]);
    assert.ok(v.action === "reject" && /DMARC/.test(v.text));
  });

  it("DMARC fail with p=quarantine quarantines; p=none does nothing", () => {
    assert.deepEqual(decideVerdict(input({ spf: "none", dkim: [], dmarc: "fail", dmarcPolicy: "quarantine" })), {
      action: "quarantine",
      reasons: ["dmarc"],
    });
    assert.deepEqual(decideVerdict(input({ spf: "none", dkim: [], dmarc: "fail", dmarcPolicy: "none" })), { action: "accept", reasons: [] });
  });

  it("the domain's actions decide: dmarcReject=quarantine files p=reject failures in Junk, ignore lets them in", () => {
    const failing = { spf: "none", dkim: [], dmarc: "fail", dmarcPolicy: "reject" };
    assert.equal(decideVerdict(input({ ...failing, policies: [policy({ dmarcReject: "quarantine" })] })).action, "quarantine");
    assert.equal(decideVerdict(input({ ...failing, policies: [policy({ dmarcReject: "ignore" })] })).action, "accept");
    assert.equal(decideVerdict(input({ ...failing, spf: "none", dmarcPolicy: "quarantine", policies: [policy({ dmarcQuarantine: "reject" })] })).action, "reject");
  });

  it("the strictest action among the recipients' domains wins, per check", () => {
    const failing = { spf: "none", dkim: [], dmarc: "fail", dmarcPolicy: "reject" };
    const lax = policy({ dmarcReject: "ignore" });
    const junk = policy({ dmarcReject: "quarantine" });
    assert.equal(decideVerdict(input({ ...failing, policies: [lax, junk] })).action, "quarantine");
    assert.equal(decideVerdict(input({ ...failing, policies: [lax, junk, defaults] })).action, "reject");
    assert.equal(decideVerdict(input({ ...failing, policies: [lax, lax] })).action, "accept");
    // No recipients (cannot happen at DATA): nothing to enforce.
    assert.equal(decideVerdict(input({ ...failing, policies: [] })).action, "accept");
  });

  it("SPF fail quarantines by default, softfail is ignored by default; both configurable", () => {
    assert.deepEqual(decideVerdict(input({ spf: "fail" })), { action: "quarantine", reasons: ["spf"] });
    assert.deepEqual(decideVerdict(input({ spf: "softfail" })), { action: "accept", reasons: [] });
    assert.equal(decideVerdict(input({ spf: "fail", policies: [policy({ spfFail: "reject" })] })).action, "reject");
    assert.equal(decideVerdict(input({ spf: "softfail", policies: [policy({ spfSoftfail: "quarantine" })] })).action, "quarantine");
    assert.equal(decideVerdict(input({ spf: "fail", policies: [policy({ spfFail: "ignore" })] })).action, "accept");
    for (const other of ["neutral", "none", "permerror", "temperror"]) {
      assert.equal(decideVerdict(input({ spf: other, policies: [policy({ spfFail: "reject", spfSoftfail: "reject" })] })).action, "accept", other);
    }
  });

  it("DKIM: only when every signature present fails (dkimFail is ignore by default)", () => {
    const strict = [policy({ dkimFail: "quarantine" })];
    assert.equal(decideVerdict(input({ dkim: sigs("fail") })).action, "accept");
    assert.deepEqual(decideVerdict(input({ dkim: sigs("fail"), policies: strict })), { action: "quarantine", reasons: ["dkim"] });
    assert.equal(decideVerdict(input({ dkim: sigs("neutral", "permerror"), policies: strict })).action, "quarantine");
    assert.equal(decideVerdict(input({ dkim: sigs("fail", "pass"), policies: strict })).action, "accept");
    assert.equal(decideVerdict(input({ dkim: [], policies: strict })).action, "accept", "unsigned is not a failure");
    assert.equal(decideVerdict(input({ dkim: sigs("fail", "temperror"), policies: strict })).action, "accept", "a temperror is no verdict");
    assert.equal(allDkimSignaturesFail([]), false);
    assert.equal(allDkimSignaturesFail(["policy"]), true);
  });

  it("DNSBL listing: reject by default (naming the zone), quarantine or ignore when the domain says so", () => {
    const v = decideVerdict(input({ dnsbl: ["bl.example"] }));
    assert.equal(v.action, "reject");
    assert.ok(v.action === "reject" && v.text.includes("bl.example"));
    assert.deepEqual(decideVerdict(input({ dnsbl: ["bl.example"], policies: [policy({ dnsbl: "quarantine" })] })), {
      action: "quarantine",
      reasons: ["dnsbl"],
    });
    assert.equal(decideVerdict(input({ dnsbl: ["bl.example"], policies: [policy({ dnsbl: "ignore" })] })).action, "accept");
  });

  it("reject beats quarantine; reasons list every check that led to the action", () => {
    const v = decideVerdict(input({ spf: "fail", dkim: sigs("fail"), dmarc: "fail", dmarcPolicy: "quarantine", policies: [policy({ dkimFail: "quarantine" })] }));
    assert.deepEqual(v, { action: "quarantine", reasons: ["dmarc", "spf", "dkim"] });
    const r = decideVerdict(input({ spf: "fail", dkim: [], dmarc: "fail", dmarcPolicy: "reject", policies: [policy({ spfFail: "reject" })] }));
    assert.equal(r.action, "reject");
    assert.deepEqual(r.reasons, ["dmarc", "spf"]);
  });

  it("DMARC temperror, and a DMARC fail while an identifier that could align was a temperror, never reject", () => {
    assert.equal(decideVerdict(input({ spf: "none", dkim: [], dmarc: "temperror", dmarcPolicy: null, dmarcOrgDomain: null })).action, "accept");
    assert.equal(decideVerdict(input({ spf: "temperror", dkim: [], dmarc: "fail", dmarcPolicy: "reject" })).action, "accept");
    assert.equal(decideVerdict(input({ spf: "temperror", spfDomain: "bounces.sender.example", dkim: [], dmarc: "fail" })).action, "accept");
    assert.equal(decideVerdict(input({ spf: "none", dkim: sigs("temperror"), dmarc: "fail", dmarcPolicy: "reject" })).action, "accept");
  });

  it("a temperror for a domain that cannot align does not save a DMARC failure (no dodging p=reject)", () => {
    const spoof = { dmarc: "fail", dmarcPolicy: "reject", dmarcOrgDomain: "victim.example" };
    assert.equal(decideVerdict(input({ ...spoof, spf: "temperror", spfDomain: "attacker.example", dkim: [] })).action, "reject");
    assert.equal(decideVerdict(input({ ...spoof, spf: "temperror", spfDomain: "victim.example.attacker.example", dkim: [] })).action, "reject");
    assert.equal(
      decideVerdict(input({ ...spoof, spf: "none", spfDomain: null, dkim: [{ result: "temperror", domain: "attacker.example" }] })).action,
      "reject",
    );
  });

  it("pct: a failing message outside the sampled percentage gets the next weaker policy (RFC 7489 §6.6.4)", () => {
    assert.equal(applyDmarcPct("reject", null, 99.9), "reject");
    assert.equal(applyDmarcPct("reject", 100, 99.9), "reject");
    assert.equal(applyDmarcPct("reject", 50, 49.9), "reject");
    assert.equal(applyDmarcPct("reject", 50, 50), "quarantine");
    assert.equal(applyDmarcPct("quarantine", 50, 50), "none");
    assert.equal(applyDmarcPct("reject", 0, 0), "quarantine");
    assert.equal(applyDmarcPct("reject", 0, 0, true), "reject", "t=y already lowered the policy");
    assert.equal(applyDmarcPct("none", 100, 0), "none");
    assert.equal(applyDmarcPct(null, null, 0), "none");
    const failing = { spf: "none", dkim: [], dmarc: "fail", dmarcPolicy: "reject", dmarcPct: 30 };
    assert.equal(decideVerdict(input({ ...failing, pctSample: 10 })).action, "reject");
    assert.deepEqual(decideVerdict(input({ ...failing, pctSample: 30 })), { action: "quarantine", reasons: ["dmarc"] });
  });
});

describe("removing Authentication-Results that claim our hostname", () => {
  const host = "mx.edgemail.test";

  it("removes ours (any case, folded, with a comment or version before the id), keeps foreign ones and every other byte", () => {
    const head = [
      "Authentication-Results: mx.edgemail.test; spf=pass smtp.mailfrom=x@y.example",
      "Received: from a by b; Tue, 24 Nov 2026 10:00:00 +0000",
      "Authentication-Results: other.example; dkim=pass header.d=y.example",
      "authentication-results:   (forged)\r\n MX.EDGEMAIL.TEST. 1;\r\n dmarc=pass",
      'Authentication-Results: "mx.edgemail.test"; none',
      "Authentication-Results: mx.edgemail.test.example; spf=pass",
      "ARC-Authentication-Results: i=1; mx.edgemail.test; spf=pass",
      "Subject: hi",
    ].join("\r\n");
    const body = "\r\nAuthentication-Results: mx.edgemail.test; in the body stays\r\n";
    const raw = Buffer.from(`${head}\r\n${body}`, "latin1");
    const { message, removed } = removeOwnAuthenticationResults(raw, host);
    assert.equal(removed, 3);
    const expected = [
      "Received: from a by b; Tue, 24 Nov 2026 10:00:00 +0000",
      "Authentication-Results: other.example; dkim=pass header.d=y.example",
      "Authentication-Results: mx.edgemail.test.example; spf=pass",
      "ARC-Authentication-Results: i=1; mx.edgemail.test; spf=pass",
      "Subject: hi",
    ].join("\r\n");
    assert.equal(message.toString("latin1"), `${expected}\r\n${body}`);
  });

  it("returns the same buffer when nothing is ours, also with bare LF, 8-bit bytes and no body", () => {
    for (const text of ["Subject: x\nAuthentication-Results: a.example; none\n\nbody\n", "Subject: \xe9\xff\r\nX: y\r\n", ""]) {
      const raw = Buffer.from(text, "latin1");
      const { message, removed } = removeOwnAuthenticationResults(raw, host);
      assert.equal(removed, 0);
      assert.ok(message.equals(raw));
    }
    const lf = removeOwnAuthenticationResults(Buffer.from("A: 1\nAuthentication-Results: mx.edgemail.test;\n\tspf=pass\nB: 2\n\nbody\n"), host);
    assert.equal(lf.message.toString(), "A: 1\nB: 2\n\nbody\n");
  });

  it("reads the authserv-id after CFWS, as a token or a quoted string", () => {
    assert.equal(authservIdOf(" example.org; spf=pass"), "example.org");
    assert.equal(authservIdOf(" (c (nested)) example.org 1; none"), "example.org");
    assert.equal(authservIdOf(' "quoted.example"; none'), "quoted.example");
    assert.equal(authservIdOf("   "), null);
  });
});

function nxdomain(): Error {
  return Object.assign(new Error("queryTxt ENOTFOUND"), { code: "ENOTFOUND" });
}
function servfail(): Error {
  return Object.assign(new Error("queryTxt ESERVFAIL"), { code: "ESERVFAIL" });
}

/** An in-memory zone in mailauth's resolver shape: `name:TYPE` → answer, or an error to throw. */
function memoryResolver(records: Record<string, unknown[] | (() => Error)>): MailauthResolver & { queries: string[] } {
  const queries: string[] = [];
  const fn = async (name: string, type: string) => {
    queries.push(`${name}:${type}`);
    const r = records[`${name.toLowerCase()}:${type}`];
    if (typeof r === "function") throw r();
    if (r) return r;
    throw nxdomain();
  };
  return Object.assign(fn, { queries });
}

describe("iprev", () => {
  it("reverse names for IPv4 and IPv6", () => {
    assert.equal(reverseName("192.0.2.1"), "1.2.0.192.in-addr.arpa");
    assert.equal(reverseName("2001:db8::1"), "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  });

  it("pass when a PTR name maps back; fail without PTR or match; temperror on a temporary error", async () => {
    const dns = memoryResolver({
      "1.2.0.192.in-addr.arpa:PTR": ["mail.example.net."],
      "mail.example.net:A": ["192.0.2.1"],
      "2.2.0.192.in-addr.arpa:PTR": ["liar.example.net"],
      "liar.example.net:A": ["198.51.100.7"],
      "3.2.0.192.in-addr.arpa:PTR": servfail,
      "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa:PTR": ["v6.example.net"],
      "v6.example.net:AAAA": ["2001:0db8:0000:0000:0000:0000:0000:0001"],
    });
    assert.deepEqual(await iprev("192.0.2.1", dns), {
      result: "pass",
      names: ["mail.example.net"],
      info: "iprev=pass policy.iprev=192.0.2.1 (mail.example.net)",
    });
    assert.equal((await iprev("192.0.2.2", dns)).result, "fail");
    assert.equal((await iprev("192.0.2.3", dns)).result, "temperror");
    assert.equal((await iprev("192.0.2.4", dns)).info, "iprev=fail policy.iprev=192.0.2.4 (no PTR record)");
    assert.equal((await iprev("2001:db8::1", dns)).result, "pass");
  });
});

describe("authenticateInbound with an in-memory DNS", () => {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ed = generateKeyPairSync("ed25519");
  const rsaPublic = rsa.publicKey.export({ format: "der", type: "spki" }).toString("base64");
  // RFC 8463 §4.2: the ed25519 p= is the raw 32-byte key, not the SPKI wrapping.
  const edPublic = ed.publicKey.export({ format: "der", type: "spki" }).subarray(-32).toString("base64");
  const records = {
    "sender.example:TXT": [["v=spf1 ip4:192.0.2.10 -all"]],
    "_dmarc.sender.example:TXT": [["v=DMARC1; p=reject"]],
    "rsa._domainkey.sender.example:TXT": [[`v=DKIM1; k=rsa; p=${rsaPublic}`]],
    "ed._domainkey.sender.example:TXT": [[`v=DKIM1; k=ed25519; p=${edPublic}`]],
    "broken.example:TXT": servfail,
    "_dmarc.broken.example:TXT": servfail,
  };
  const message = (from: string) =>
    Buffer.from(`From: <a@${from}>\r\nTo: <b@edgemail.test>\r\nSubject: unit\r\nMessage-ID: <u@${from}>\r\n\r\nHello.\r\n`);
  const sign = async (raw: Buffer, selector: "rsa" | "ed") => {
    const key = selector === "rsa" ? rsa.privateKey : ed.privateKey;
    const data = {
      signingDomain: "sender.example",
      selector,
      privateKey: key.export({ format: "pem", type: "pkcs8" }) as string,
      algorithm: selector === "ed" ? "ed25519-sha256" : "rsa-sha256",
    };
    // Only signatureData entries are signed; the top-level copy is what the typings ask for.
    const signed = await dkimSign(raw, { ...data, signatureData: [data] });
    return Buffer.concat([Buffer.from(signed.signatures), raw]);
  };
  const run = (raw: Buffer, ip: string, from = "a@sender.example", extra: { timeoutMs?: number; resolver?: MailauthResolver } = {}) =>
    authenticateInbound(
      { hostname: "mx.edgemail.test", resolver: extra.resolver ?? memoryResolver(records), random: () => 0.5, timeoutMs: extra.timeoutMs },
      { raw, remoteAddress: ip, heloName: "mail.sender.example", mailFrom: from, policies: [defaults], dnsblListings: [] },
    );

  it("SPF pass + DKIM pass (RSA and ed25519) + DMARC pass: accept, one Authentication-Results field", async () => {
    for (const selector of ["rsa", "ed"] as const) {
      const out = await run(await sign(message("sender.example"), selector), "192.0.2.10");
      assert.equal(out.verdict.action, "accept");
      assert.equal(out.authentication.spf, "pass");
      assert.equal(out.authentication.dkim, "pass");
      assert.equal(out.authentication.dmarc, "pass");
      assert.equal(out.authentication.dmarcPolicy, "reject");
      assert.equal(out.authentication.iprev, "fail");
      assert.match(out.field, /^Authentication-Results: mx\.edgemail\.test;\r\n /);
      assert.match(out.field, new RegExp(`dkim=pass [^;]*header\\.a=${selector === "rsa" ? "rsa-sha256" : "ed25519-sha256"}`));
      assert.match(out.field, /spf=pass .*smtp\.mailfrom=a@sender\.example/);
      assert.match(out.field, /dmarc=pass /);
      assert.match(out.field, /iprev=fail policy\.iprev=192\.0\.2\.10 \(no PTR record\)\r\n$/);
      assert.equal(out.field.match(/\r\n(?![ \t])/g)?.length, 1, "one field");
      assert.equal(`Authentication-Results: ${out.authentication.header}\r\n`, out.field);
    }
  });

  it("SPF fail, unsigned, DMARC p=reject: reject", async () => {
    const out = await run(message("sender.example"), "192.0.2.99");
    assert.equal(out.verdict.action, "reject");
    assert.equal(out.authentication.spf, "fail");
    assert.equal(out.authentication.dkim, "none");
    assert.equal(out.authentication.dmarc, "fail");
  });

  it("a body changed after signing: DKIM no longer passes, DMARC fails on it", async () => {
    const signed = await sign(message("sender.example"), "ed");
    const tampered = Buffer.from(signed.toString("latin1").replace("Hello.", "Hullo."), "latin1");
    const out = await run(tampered, "192.0.2.99");
    assert.notEqual(out.authentication.dkim, "pass");
    assert.equal(out.verdict.action, "reject");
  });

  it("SERVFAIL for the sender domain: temperror, accepted", async () => {
    const out = await run(message("broken.example"), "192.0.2.99", "a@broken.example");
    assert.equal(out.authentication.spf, "temperror");
    assert.equal(out.authentication.dmarc, "temperror");
    assert.equal(out.verdict.action, "accept");
  });

  it("checks that outlast the budget are temperror and the message is accepted", async () => {
    const stalled: MailauthResolver = () => new Promise(() => {});
    const out = await run(message("sender.example"), "192.0.2.99", "a@sender.example", { timeoutMs: 50, resolver: stalled });
    assert.equal(out.verdict.action, "accept");
    assert.equal(out.authentication.spf, "temperror");
    assert.match(out.field, /^Authentication-Results: mx\.edgemail\.test;\r\n spf=temperror/);
  });
});
