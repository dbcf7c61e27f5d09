/**
 * Authentication of incoming mail end to end: nodemailer sends to the real MX from chosen
 * loopback source addresses (127.0.0.50/51/52); SPF, DKIM (RSA and ed25519 keys, messages signed
 * with mailauth) and DMARC records come from a local unbound zone the relay is pointed at, so
 * nothing leaves the machine (names outside the zone are NXDOMAIN, including the PTR lookups of
 * iprev). Every case goes to its own account, so where it landed (INBOX or Junk) and the
 * Authentication-Results field read back over IMAP belong to that case alone.
 *
 * The inbound policies are the contract's defaults (no per-domain settings are written here):
 * dmarcReject=reject, dmarcQuarantine=quarantine, spfFail=quarantine, spfSoftfail=ignore,
 * dkimFail=ignore.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { authenticate, dkimSign, type DNSResolver } from "mailauth";
import nodemailer from "nodemailer";
import { createDeliveryDns } from "../../relay/delivery/dns.ts";
import { startDnsZone, type DnsZone, type ZoneRecord } from "../support/dns-zone.ts";
import { connectImap } from "../support/imap-client.ts";
import { SmtpTranscript } from "../support/smtp-transcript.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const HOSTNAME = "mx.edgemail.test";
/** Allowed by the SPF records of the sender domains. */
const GOOD_IP = "127.0.0.50";
/** The forwarder's address (allowed only by forwarder.example). */
const FORWARDER_IP = "127.0.0.51";
/** Allowed by no one. */
const STRANGER_IP = "127.0.0.52";
const PASSWORD = "inbound-auth-password-1";

const rsaKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
const edKey = generateKeyPairSync("ed25519");
/** Signs with a key whose public half is published nowhere: a DKIM signature that fails. */
const otherRsaKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
const arcKey = generateKeyPairSync("rsa", { modulusLength: 2048 });

const publicRsa = (k: KeyObject) => k.export({ format: "der", type: "spki" }).toString("base64");
// RFC 8463 §4.2: an ed25519 key record carries the raw 32-byte key.
const publicEd = (k: KeyObject) => k.export({ format: "der", type: "spki" }).subarray(-32).toString("base64");
const pem = (k: KeyObject) => k.export({ format: "pem", type: "pkcs8" }) as string;

function dkimKeys(domain: string): ZoneRecord[] {
  return [
    { name: `rsa._domainkey.${domain}`, type: "TXT", text: `v=DKIM1; k=rsa; p=${publicRsa(rsaKey.publicKey)}` },
    { name: `ed._domainkey.${domain}`, type: "TXT", text: `v=DKIM1; k=ed25519; p=${publicEd(edKey.publicKey)}` },
  ];
}

const RECORDS: ZoneRecord[] = [
  // p=reject, SPF -all
  { name: "reject.example", type: "TXT", text: `v=spf1 ip4:${GOOD_IP} -all` },
  { name: "_dmarc.reject.example", type: "TXT", text: "v=DMARC1; p=reject" },
  ...dkimKeys("reject.example"),
  // p=quarantine, SPF -all
  { name: "quarantine.example", type: "TXT", text: `v=spf1 ip4:${GOOD_IP} -all` },
  { name: "_dmarc.quarantine.example", type: "TXT", text: "v=DMARC1; p=quarantine" },
  ...dkimKeys("quarantine.example"),
  // p=none, SPF ~all
  { name: "monitor.example", type: "TXT", text: `v=spf1 ip4:${GOOD_IP} ~all` },
  { name: "_dmarc.monitor.example", type: "TXT", text: "v=DMARC1; p=none" },
  ...dkimKeys("monitor.example"),
  // no SPF and no DMARC record, only DKIM keys
  ...dkimKeys("nopolicy.example"),
  // p=reject applied to 0 % of failing mail: the rest gets the next weaker policy (quarantine)
  { name: "sampled.example", type: "TXT", text: `v=spf1 ip4:${GOOD_IP} -all` },
  { name: "_dmarc.sampled.example", type: "TXT", text: "v=DMARC1; p=reject; pct=0" },
  // a forwarder that seals ARC
  { name: "forwarder.example", type: "TXT", text: `v=spf1 ip4:${FORWARDER_IP} -all` },
  { name: "arc._domainkey.forwarder.example", type: "TXT", text: `v=DKIM1; k=rsa; p=${publicRsa(arcKey.publicKey)}` },
  // answers SERVFAIL (a bogus DNSSEC zone): temperror for SPF and DMARC
  { name: "broken.example", type: "TXT", text: `v=spf1 ip4:${GOOD_IP} -all` },
  { name: "_dmarc.broken.example", type: "TXT", text: "v=DMARC1; p=reject" },
];

type Signing = "none" | "rsa" | "ed25519" | "rsa-tampered" | "ed25519-tampered" | "rsa-unpublished-key";

function compose(name: string, fromDomain: string, extraHeaders: string[] = []): Buffer {
  return Buffer.from(
    [
      ...extraHeaders,
      `From: Sender <sender@${fromDomain}>`,
      `To: <${name}@edgemail.test>`,
      `Subject: case ${name}`,
      `Message-ID: <${name}@${fromDomain}>`,
      "Date: Tue, 24 Nov 2026 10:00:00 +0000",
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "",
      `The body of case ${name}.`,
      "",
    ].join("\r\n"),
  );
}

async function sign(raw: Buffer, domain: string, signing: Signing): Promise<Buffer> {
  if (signing === "none") return raw;
  const ed = signing.startsWith("ed25519");
  const key = signing === "rsa-unpublished-key" ? otherRsaKey.privateKey : ed ? edKey.privateKey : rsaKey.privateKey;
  const data = { signingDomain: domain, selector: ed ? "ed" : "rsa", privateKey: pem(key), algorithm: ed ? "ed25519-sha256" : "rsa-sha256" };
  // Only signatureData entries are signed; the top-level copy is what the typings ask for.
  const result = await dkimSign(raw, { ...data, signatureData: [data] });
  assert.deepEqual(result.errors, []);
  let signed = Buffer.concat([Buffer.from(result.signatures), raw]);
  // A mailing list's footer, say: the body no longer matches the signature's body hash.
  if (signing.endsWith("-tampered")) signed = Buffer.concat([signed, Buffer.from("-- \r\nadded after signing\r\n")]);
  return signed;
}

interface Case {
  name: string;
  what: string;
  fromDomain: string;
  mailFrom: string;
  ip: string;
  signing: Signing;
  smtp: "accept" | "reject";
  /** The relay's verdict: absent = accept; the checks whose action decided the quarantine or reject. */
  reasons?: string[];
  mailbox?: "INBOX" | "Junk";
  /** Patterns the stored Authentication-Results field must match. */
  results: RegExp[];
}

const CASES: Case[] = [
  {
    name: "spf-pass-dkim-rsa",
    what: "SPF pass, DKIM pass (RSA), DMARC p=reject pass",
    fromDomain: "reject.example",
    mailFrom: "bounces@reject.example",
    ip: GOOD_IP,
    signing: "rsa",
    smtp: "accept",
    mailbox: "INBOX",
    results: [/\bspf=pass .*smtp\.mailfrom=bounces@reject\.example/, /\bdkim=pass [^;]*header\.a=rsa-sha256/, /\bdmarc=pass [^;]*policy\.dmarc=reject header\.from=reject\.example/],
  },
  {
    name: "spf-pass-dkim-ed25519",
    what: "SPF pass, DKIM pass (ed25519), DMARC p=quarantine pass",
    fromDomain: "quarantine.example",
    mailFrom: "bounces@quarantine.example",
    ip: GOOD_IP,
    signing: "ed25519",
    smtp: "accept",
    mailbox: "INBOX",
    results: [/\bspf=pass /, /\bdkim=pass [^;]*header\.a=ed25519-sha256/, /\bdmarc=pass /],
  },
  {
    name: "dmarc-reject",
    reasons: ["dmarc"],
    what: "SPF fail, unsigned, DMARC p=reject fails: 550 5.7.1 at the end of DATA, nothing stored",
    fromDomain: "reject.example",
    mailFrom: "bounces@reject.example",
    ip: STRANGER_IP,
    signing: "none",
    smtp: "reject",
    results: [],
  },
  {
    name: "dmarc-reject-dkim-broken",
    reasons: ["dmarc"],
    what: "SPF fail, DKIM fail (RSA, body changed), DMARC p=reject fails: rejected",
    fromDomain: "reject.example",
    mailFrom: "bounces@reject.example",
    ip: STRANGER_IP,
    signing: "rsa-tampered",
    smtp: "reject",
    results: [],
  },
  {
    name: "spf-fail-dkim-pass",
    reasons: ["spf"],
    what: "SPF fail, DKIM pass (RSA, aligned) so DMARC p=reject passes; SPF fail quarantines",
    fromDomain: "reject.example",
    mailFrom: "bounces@reject.example",
    ip: STRANGER_IP,
    signing: "rsa",
    smtp: "accept",
    mailbox: "Junk",
    results: [/\bspf=fail /, /\bdkim=pass /, /\bdmarc=pass /],
  },
  {
    name: "dmarc-quarantine",
    reasons: ["dmarc", "spf"],
    what: "SPF fail, DKIM fail (ed25519, body changed), DMARC p=quarantine fails: Junk",
    fromDomain: "quarantine.example",
    mailFrom: "bounces@quarantine.example",
    ip: STRANGER_IP,
    signing: "ed25519-tampered",
    smtp: "accept",
    mailbox: "Junk",
    results: [/\bspf=fail /, /\bdkim=(?:neutral|fail) [^;]*header\.a=ed25519-sha256/, /\bdmarc=fail [^;]*policy\.dmarc=quarantine/],
  },
  {
    name: "spf-softfail-dmarc-none",
    what: "SPF softfail, unsigned, DMARC p=none fails: accepted into INBOX (softfail and p=none only recorded)",
    fromDomain: "monitor.example",
    mailFrom: "bounces@monitor.example",
    ip: STRANGER_IP,
    signing: "none",
    smtp: "accept",
    mailbox: "INBOX",
    results: [/\bspf=softfail /, /\bdkim=none /, /\bdmarc=fail [^;]*policy\.dmarc=none/],
  },
  {
    name: "spf-none-dkim-ed25519",
    what: "SPF none, DKIM pass (ed25519), no DMARC record",
    fromDomain: "nopolicy.example",
    mailFrom: "bounces@nopolicy.example",
    ip: STRANGER_IP,
    signing: "ed25519",
    smtp: "accept",
    mailbox: "INBOX",
    results: [/\bspf=none /, /\bdkim=pass [^;]*header\.a=ed25519-sha256/, /\bdmarc=none /],
  },
  {
    name: "spf-none-dkim-fail",
    what: "SPF none, DKIM fail (RSA, body changed), no DMARC record: accepted (dkimFail=ignore)",
    fromDomain: "nopolicy.example",
    mailFrom: "bounces@nopolicy.example",
    ip: STRANGER_IP,
    signing: "rsa-tampered",
    smtp: "accept",
    mailbox: "INBOX",
    results: [/\bspf=none /, /\bdkim=(?:neutral|fail) [^;]*header\.a=rsa-sha256/, /\bdmarc=none /],
  },
  {
    name: "spf-pass-dkim-bad-key",
    what: "SPF pass, DKIM fail (RSA, signed with a key that is not published), DMARC p=reject passes on SPF",
    fromDomain: "reject.example",
    mailFrom: "bounces@reject.example",
    ip: GOOD_IP,
    signing: "rsa-unpublished-key",
    smtp: "accept",
    mailbox: "INBOX",
    results: [/\bspf=pass /, /\bdkim=(?:fail|neutral) /, /\bdmarc=pass /],
  },
  {
    name: "dmarc-pct-0",
    reasons: ["dmarc", "spf"],
    what: "SPF fail, unsigned, DMARC p=reject with pct=0: the weaker policy applies, Junk",
    fromDomain: "sampled.example",
    mailFrom: "bounces@sampled.example",
    ip: STRANGER_IP,
    signing: "none",
    smtp: "accept",
    mailbox: "Junk",
    results: [/\bspf=fail /, /\bdmarc=fail [^;]*policy\.dmarc=reject/],
  },
  {
    name: "dns-temperror",
    what: "SERVFAIL for the sender domain: SPF and DMARC temperror, accepted into INBOX",
    fromDomain: "broken.example",
    mailFrom: "bounces@broken.example",
    ip: STRANGER_IP,
    signing: "none",
    smtp: "accept",
    mailbox: "INBOX",
    results: [/\bspf=temperror /, /\bdmarc=temperror /],
  },
  {
    name: "temperror-elsewhere",
    reasons: ["dmarc"],
    what: "MAIL FROM a SERVFAILing domain of its own, From a p=reject domain, unsigned: the temperror cannot align, rejected",
    fromDomain: "reject.example",
    mailFrom: "bounces@broken.example",
    ip: STRANGER_IP,
    signing: "none",
    smtp: "reject",
    results: [],
  },
];

async function send(
  stack: Stack,
  c: { ip: string; mailFrom: string; to: string; raw: Buffer; helo?: string },
): Promise<{ ok: true; response: string } | { ok: false; response: string; code: number }> {
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: stack.relay!.ports.mx!,
    secure: false,
    localAddress: c.ip,
    name: c.helo ?? `mail.${c.mailFrom.split("@")[1]}`,
    tls: { rejectUnauthorized: false },
    logger: false,
  });
  try {
    const info = await transport.sendMail({ envelope: { from: c.mailFrom, to: [c.to] }, raw: c.raw });
    return { ok: true, response: info.response };
  } catch (err) {
    const e = err as { response?: string; responseCode?: number };
    if (!e.responseCode) throw err;
    return { ok: false, response: e.response ?? "", code: e.responseCode };
  } finally {
    transport.close();
  }
}

/** What an account holds: the full source of every message, per mailbox. */
async function mailboxes(stack: Stack, address: string): Promise<{ INBOX: Buffer[]; Junk: Buffer[] }> {
  const client = await connectImap(stack, { address, password: PASSWORD });
  try {
    const out = { INBOX: [] as Buffer[], Junk: [] as Buffer[] };
    for (const box of ["INBOX", "Junk"] as const) {
      const status = await client.mailboxOpen(box);
      if (status.exists === 0) continue;
      for await (const m of client.fetch("1:*", { source: true })) out[box].push(m.source!);
    }
    return out;
  } finally {
    await client.logout();
  }
}

/** The header fields of a stored message, in order, unfolded names kept as sent. */
function headerFields(source: Buffer): string[] {
  const text = source.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  return text.slice(0, end + 2).split(/\r\n(?![ \t])/).filter(Boolean);
}

function ourResults(source: Buffer): string[] {
  return headerFields(source).filter((f) => /^Authentication-Results:\s*mx\.edgemail\.test;/i.test(f));
}

describe("authentication of incoming mail (SPF, DKIM, DMARC, ARC) at the MX", () => {
  let stack: Stack;
  let zone: DnsZone;
  /** Where each accepted case landed, for the INBOX-vs-Junk test. */
  const landed = new Map<string, "INBOX" | "Junk">();
  /** The delivery id of each accepted case (from "250 2.6.0 Stored as <id>"). */
  const deliveryIds = new Map<string, string>();
  /** The relay's log: it names every quarantined delivery and every rejection with the deciding checks. */
  const relayLog: string[] = [];

  const account = async (name: string) => {
    const address = `${name}@edgemail.test`;
    await stack.admin("POST", "/accounts", { address, password: PASSWORD });
    return address;
  };

  before(async () => {
    zone = await startDnsZone(RECORDS, { bogusZones: ["broken.example"] });
    stack = await startTestStack({ dnsServers: [zone.server], hostname: HOSTNAME, log: (line) => relayLog.push(line) });
  });
  after(async () => {
    await stack?.cleanup();
    await zone?.stop();
  });

  for (const c of CASES) {
    it(`${c.what}`, async () => {
      const to = await account(c.name);
      const raw = await sign(compose(c.name, c.fromDomain), c.fromDomain, c.signing);
      const reply = await send(stack, { ip: c.ip, mailFrom: c.mailFrom, to, raw });
      const stored = await mailboxes(stack, to);
      if (c.smtp === "reject") {
        assert.equal(reply.ok, false, `expected a rejection, got ${reply.response}`);
        assert.match(reply.response, /^550 5\.7\.1 .*DMARC/);
        assert.deepEqual(stored, { INBOX: [], Junk: [] }, "nothing stored");
        const rejected = relayLog.filter((l) => l.startsWith(`rejected <${c.mailFrom}> from [${c.ip}]`));
        assert.ok(rejected.some((l) => l.endsWith(`: ${c.reasons!.join(",")}`)), rejected.join("\n"));
        return;
      }
      assert.equal(reply.ok, true, `expected 250, got ${reply.response}`);
      const deliveryId = /^250 2\.6\.0 Stored as (\S+)$/.exec(reply.response)?.[1];
      assert.ok(deliveryId, reply.response);
      deliveryIds.set(c.name, deliveryId);
      const quarantined = relayLog.filter((l) => l.startsWith(`quarantined ${deliveryId} `));
      if (c.reasons) assert.deepEqual(quarantined, [`quarantined ${deliveryId} <${c.mailFrom}> from [${c.ip}]: ${c.reasons.join(",")}`]);
      else assert.deepEqual(quarantined, [], "accepted, not quarantined");
      const all = [...stored.INBOX, ...stored.Junk];
      assert.equal(all.length, 1);
      landed.set(c.name, stored.INBOX.length === 1 ? "INBOX" : "Junk");
      const source = all[0]!;
      assert.ok(source.subarray(source.length - raw.length).equals(raw), "the sent octets follow our fields unchanged");
      const added = source.subarray(0, source.length - raw.length).toString("latin1").split(/\r\n(?![ \t])/).filter(Boolean);
      assert.deepEqual(
        added.map((f) => f.slice(0, f.indexOf(":"))),
        ["Return-Path", "Received", "Authentication-Results"],
        "only our three fields are added",
      );
      const ours = ourResults(source);
      assert.equal(ours.length, 1, "exactly one Authentication-Results of ours");
      for (const pattern of c.results) assert.match(ours[0]!.replace(/\r\n[ \t]+/g, " "), pattern);
      assert.match(ours[0]!, new RegExp(`\\biprev=fail policy\\.iprev=${c.ip.replace(/\./g, "\\.")} `), "no PTR in the zone");
    });
  }

  // The two below need the edge's part of issue 5: filing by verdict, and the results kept with
  // the delivery (GET /admin/v1/deliveries/:id).
  it("quarantined messages land in Junk, accepted ones in INBOX", () => {
    const expected = Object.fromEntries(CASES.filter((c) => c.mailbox).map((c) => [c.name, c.mailbox]));
    assert.deepEqual(Object.fromEntries(landed), expected);
  });

  it("the admin API shows the results and verdict stored with each delivery", async () => {
    for (const c of CASES.filter((x) => x.smtp === "accept")) {
      const id = deliveryIds.get(c.name);
      assert.ok(id, c.name);
      const { json } = await stack.admin("GET", `/deliveries/${id}`);
      const auth = (json as { authentication: { verdict: string; reasons: string[]; header: string } | null }).authentication;
      assert.ok(auth, c.name);
      assert.equal(auth.verdict, c.reasons ? "quarantine" : "accept", c.name);
      assert.deepEqual(auth.reasons, c.reasons ?? [], c.name);
      for (const pattern of c.results) assert.match(auth.header.replace(/\r\n[ \t]+/g, " "), pattern, c.name);
    }
  });

  it("ARC: a sealed forward verifies (arc=pass); a message changed after sealing does not (arc=fail)", async () => {
    const resolver = createDeliveryDns([zone.server]).mailauthResolver as DNSResolver;
    const original = await sign(compose("arc-forward", "monitor.example"), "monitor.example", "rsa");
    // The forwarder authenticates what it received (from GOOD_IP) and seals it.
    const sealed = await authenticate(original, {
      ip: GOOD_IP,
      helo: "mail.monitor.example",
      sender: "bounces@monitor.example",
      mta: "mx.forwarder.example",
      resolver,
      trustReceived: false,
      disableBimi: true,
      seal: { signingDomain: "forwarder.example", selector: "arc", privateKey: pem(arcKey.privateKey) },
    });
    const arcFields = sealed.headers.split(/\r\n(?![ \t])/).filter((f) => /^ARC-/i.test(f));
    assert.equal(arcFields.length, 3);
    const forwarded = Buffer.concat([Buffer.from(arcFields.join("\r\n") + "\r\n"), original]);

    const good = await account("arc-pass");
    const reply = await send(stack, { ip: FORWARDER_IP, mailFrom: "list@forwarder.example", to: good, raw: forwarded });
    assert.equal(reply.ok, true, reply.response);
    const [stored] = [...(await mailboxes(stack, good)).INBOX];
    assert.ok(stored);
    const ours = ourResults(stored).join("").replace(/\r\n[ \t]+/g, " ");
    assert.match(ours, /\barc=pass /);
    assert.match(ours, /\bspf=pass [^;]*smtp\.mailfrom=list@forwarder\.example/);

    const bad = await account("arc-fail");
    const changed = Buffer.concat([forwarded, Buffer.from("changed after sealing\r\n")]);
    const reply2 = await send(stack, { ip: FORWARDER_IP, mailFrom: "list@forwarder.example", to: bad, raw: changed });
    assert.equal(reply2.ok, true, reply2.response);
    const box = await mailboxes(stack, bad);
    const stored2 = [...box.INBOX, ...box.Junk][0];
    assert.ok(stored2);
    assert.match(ourResults(stored2).join("").replace(/\r\n[ \t]+/g, " "), /\barc=fail /);
  });

  it("an Authentication-Results claiming our hostname is removed, a foreign one stays, the rest is kept byte for byte", async () => {
    const to = await account("forged");
    const forged = [
      "Authentication-Results: mx.edgemail.test; spf=pass smtp.mailfrom=ceo@reject.example; dkim=pass header.d=reject.example; dmarc=pass",
      "Authentication-Results: MX.EDGEMAIL.TEST;\r\n\tdmarc=pass (folded, other case)",
      "Authentication-Results: mx.upstream.example; spf=pass smtp.mailfrom=ceo@reject.example",
    ];
    const body = compose("forged", "reject.example");
    const raw = Buffer.concat([Buffer.from(forged.join("\r\n") + "\r\n"), body]);
    const reply = await send(stack, { ip: GOOD_IP, mailFrom: "bounces@reject.example", to, raw });
    assert.equal(reply.ok, true, reply.response);
    const stored = (await mailboxes(stack, to)).INBOX[0];
    assert.ok(stored);
    // What remains of the sent message: the foreign field and everything after it, unchanged.
    const kept = Buffer.concat([Buffer.from(forged[2] + "\r\n"), body]);
    assert.ok(stored.subarray(stored.length - kept.length).equals(kept));
    const fields = headerFields(stored);
    const ours = ourResults(stored);
    assert.equal(ours.length, 1);
    assert.doesNotMatch(ours[0]!, /ceo@/);
    assert.match(ours[0]!, /\bspf=pass [^;]*smtp\.mailfrom=bounces@reject\.example/);
    assert.match(ours[0]!, /\bdkim=none /);
    assert.deepEqual(
      fields.map((f) => f.slice(0, f.indexOf(":"))).slice(0, 4),
      ["Return-Path", "Received", "Authentication-Results", "Authentication-Results"],
    );
    assert.match(fields[3]!, /^Authentication-Results: mx\.upstream\.example;/);
  });

  it("a message to two accounts is judged once and stored for both with the same results", async () => {
    const a = await account("multi-a");
    const b = await account("multi-b");
    const raw = await sign(compose("multi", "quarantine.example"), "quarantine.example", "ed25519");
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: stack.relay!.ports.mx!,
      secure: false,
      localAddress: GOOD_IP,
      name: "mail.quarantine.example",
      tls: { rejectUnauthorized: false },
      logger: false,
    });
    try {
      const info = await transport.sendMail({ envelope: { from: "bounces@quarantine.example", to: [a, b] }, raw });
      assert.deepEqual(info.accepted.sort(), [a, b].sort());
    } finally {
      transport.close();
    }
    const first = ourResults((await mailboxes(stack, a)).INBOX[0]!);
    const second = ourResults((await mailboxes(stack, b)).INBOX[0]!);
    assert.equal(first.length, 1);
    assert.deepEqual(first, second);
    assert.match(first[0]!, /\bdmarc=pass /);
  });

  it("the domain's inbound actions, changed through the admin API, apply to the next message", async () => {
    const to = await account("per-domain");
    const setInbound = (inbound: Record<string, string>) => stack.admin("PATCH", "/domains/edgemail.test", { inbound });
    const spoofed = (n: number) => compose(`per-domain-${n}`, "reject.example");
    try {
      // DMARC p=reject failing: quarantine instead of reject.
      await setInbound({ dmarcReject: "quarantine" });
      const first = await send(stack, { ip: STRANGER_IP, mailFrom: "bounces@reject.example", to, raw: spoofed(1) });
      assert.equal(first.ok, true, first.response);
      // SPF fail: reject (the DMARC failure only quarantines now, SPF decides).
      await setInbound({ spfFail: "reject" });
      const second = await send(stack, { ip: STRANGER_IP, mailFrom: "bounces@monitor.example", to, raw: compose("per-domain-2", "monitor.example") });
      assert.equal(second.ok, true, "monitor.example only soft-fails");
      const third = await send(stack, { ip: STRANGER_IP, mailFrom: "bounces@quarantine.example", to, raw: compose("per-domain-3", "quarantine.example") });
      assert.equal(third.ok, false);
      assert.match(third.response, /^550 5\.7\.1 .*SPF/);
      // Everything ignored: the spoof goes to INBOX.
      await setInbound({ dmarcReject: "ignore", spfFail: "ignore" });
      const fourth = await send(stack, { ip: STRANGER_IP, mailFrom: "bounces@reject.example", to, raw: spoofed(4) });
      assert.equal(fourth.ok, true, fourth.response);
    } finally {
      await setInbound({ dmarcReject: "reject", dmarcQuarantine: "quarantine", spfFail: "quarantine", spfSoftfail: "ignore", dkimFail: "ignore" });
    }
    const boxes = await mailboxes(stack, to);
    const subjects = (list: Buffer[]) => list.map((m) => /\r\nSubject: ([^\r]*)/.exec(m.toString("latin1"))?.[1]);
    assert.deepEqual(subjects(boxes.Junk), ["case per-domain-1"]);
    assert.deepEqual(subjects(boxes.INBOX), ["case per-domain-2", "case per-domain-4"]);
  });

  it("the edge failing at the end of DATA still answers 451 4.3.0 and stores nothing (accepted means stored)", async () => {
    const to = await account("edge-down");
    const raw = await sign(compose("edge-down", "reject.example"), "reject.example", "rsa");
    const { client } = await SmtpTranscript.open(stack.relay!.ports.mx!);
    try {
      assert.match(await client.command("EHLO mail.reject.example"), /^250/);
      assert.match(await client.command("MAIL FROM:<bounces@reject.example>"), /^250/);
      assert.match(await client.command(`RCPT TO:<${to}>`), /^250/);
      assert.match(await client.command("DATA"), /^354/);
      await stack.stopEdge();
      try {
        assert.match(await client.data(raw), /^451 4\.3\.0 /);
      } finally {
        await stack.startEdge();
      }
    } finally {
      client.close();
    }
    assert.deepEqual(await mailboxes(stack, to), { INBOX: [], Junk: [] });
  });
});
