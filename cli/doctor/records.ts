/**
 * The DNS half of the doctor: every record the edge says the domain must (or should) publish,
 * looked up through the operator's resolver and compared with what the edge expects.
 *
 * Callers may rely on: one CheckResult per expected record (one for the MX set), in the order of
 * the DnsRecordSet; each comparison reads the record the way its consumer does — SPF exactly one
 * `v=spf1` record equal to the expected one (RFC 7208 §4.5), DKIM equal after joining strings and
 * ignoring whitespace (RFC 6376 §3.6.2.2), DMARC exactly one `v=DMARC1` record with a policy and a
 * rua to our report address (RFC 7489 §6.6.3), `_mta-sts` exactly one record whose id is the
 * edge's (RFC 8461 §3.1), TLS-RPT exactly one record listing our rua endpoints (RFC 8460 §3), SRV
 * the expected target and port (RFC 6186), web hosts resolving (and, when a CNAME, to edgeHost);
 * every failure's fix quotes the zone line to publish (cli/dns/zone.ts).
 */
import type { DnsRecord, DnsRecordSet } from "../../common/contract.ts";
import { recordLine } from "../dns/zone.ts";
import { fail, pass, type CheckResult } from "./report.ts";
import { canonicalName, type Answer, type DoctorResolver } from "./resolver.ts";

type Txt = Extract<DnsRecord, { type: "TXT" }>;
type Mx = Extract<DnsRecord, { type: "MX" }>;

export async function checkRecords(set: DnsRecordSet, dns: DoctorResolver): Promise<CheckResult[]> {
  const domain = canonicalName(set.domain);
  const mx = set.records.filter((r): r is Mx => r.type === "MX");
  const jobs: Promise<CheckResult>[] = [];
  let mxDone = false;
  for (const record of set.records) {
    const name = canonicalName(record.name);
    if (record.type === "MX") {
      if (!mxDone) jobs.push(checkMx(mx, dns));
      mxDone = true;
    } else if (record.type === "TXT") {
      if (name === domain && /^v=spf1(\s|$)/i.test(record.text)) jobs.push(checkSpf(record, dns));
      else if (name.endsWith(`._domainkey.${domain}`)) jobs.push(checkDkim(record, dns, name.slice(0, -`._domainkey.${domain}`.length)));
      else if (name === `_dmarc.${domain}`) jobs.push(checkDmarc(record, dns, set.reportAddress));
      else if (name === `_mta-sts.${domain}`) jobs.push(checkMtaStsId(record, dns));
      else if (name === `_smtp._tls.${domain}`) jobs.push(checkTlsRpt(record, dns));
      else jobs.push(checkTxt(`TXT ${name}`, record, dns, () => true));
    } else if (record.type === "SRV") {
      jobs.push(checkSrv(record, dns, name.endsWith(`.${domain}`) ? name.slice(0, -domain.length - 1) : name));
    } else if (record.type === "CNAME") {
      jobs.push(checkWebHost(record, dns));
    }
    // TLSA never comes from the edge (it cannot see the relay's certificate).
  }
  return await Promise.all(jobs);
}

const publish = (records: DnsRecord[]) => `publish ${records.map(recordLine).join(" and ")}`;
const lookupFailed = (check: string, name: string, answer: Extract<Answer<unknown>, { ok: false }>, dns: DoctorResolver) =>
  fail(check, `${name}: ${answer.error}`, `check the zone's name servers and the resolver (${dns.describe}), then run doctor again`);

async function checkMx(expected: Mx[], dns: DoctorResolver): Promise<CheckResult> {
  const check = "MX";
  const domain = expected[0]!.name;
  const answer = await dns.mx(domain);
  if (!answer.ok && !answer.missing) return lookupFailed(check, domain, answer, dns);
  const found = answer.ok ? answer.values : [];
  const shown = found.length > 0 ? found.map((m) => `${m.priority} ${m.exchange || "."}`).join(", ") : "none";
  if (found.length === 0) return fail(check, `${domain} has no MX record`, publish(expected));
  if (found.some((m) => m.exchange === "" || m.exchange === ".")) {
    return fail(check, `${domain} publishes a null MX (RFC 7505: it receives no mail)`, `remove it and ${publish(expected)}`);
  }
  const want = new Map(expected.map((m) => [canonicalName(m.exchange), m.preference]));
  const have = new Map(found.map((m) => [canonicalName(m.exchange), m.priority]));
  const missing = [...want.keys()].filter((h) => !have.has(h));
  const extra = [...have.keys()].filter((h) => !want.has(h));
  // Preferences need not be the edge's numbers, only in the same order.
  const misordered = [...want].some(([a, pa]) => [...want].some(([b, pb]) => pa < pb && have.has(a) && have.has(b) && !(have.get(a)! < have.get(b)!)));
  const problems = [
    ...(missing.length > 0 ? [`lacks ${missing.join(", ")}`] : []),
    ...(extra.length > 0 ? [`has ${extra.join(", ")}, which is not one of the domain's relays`] : []),
    ...(misordered ? ["preferences are in another order than the relays'"] : []),
  ];
  if (problems.length > 0) {
    const remove = extra.length > 0 ? `remove the MX for ${extra.join(", ")}; ` : "";
    return fail(check, `${domain} MX ${shown}: ${problems.join("; ")}`, `${remove}${publish(expected)}`);
  }
  return pass(check, `${domain} MX ${shown}`);
}

/** TXT records at `record.name` that `isOurs` picks out (by their version tag), joined. */
async function txtOfKind(record: Txt, dns: DoctorResolver, isOurs: (text: string) => boolean): Promise<Answer<string>> {
  const answer = await dns.txt(record.name);
  if (!answer.ok) return answer;
  const ours = answer.values.filter(isOurs);
  return ours.length > 0 ? { ok: true, values: ours } : { ok: false, missing: true, error: "no record of that kind" };
}

async function checkTxt(check: string, record: Txt, dns: DoctorResolver, isOurs: (t: string) => boolean): Promise<CheckResult> {
  const answer = await txtOfKind(record, dns, isOurs);
  if (!answer.ok && !answer.missing) return lookupFailed(check, record.name, answer, dns);
  if (!answer.ok) return fail(check, `${record.name} has no such TXT record`, publish([record]));
  if (answer.values.includes(record.text)) return pass(check, `${record.name} "${short(record.text)}"`);
  return fail(check, `${record.name} is "${short(answer.values[0]!)}"`, `replace it: ${publish([record])}`);
}

const collapse = (s: string) => s.trim().replace(/\s+/g, " ").toLowerCase();

async function checkSpf(record: Txt, dns: DoctorResolver): Promise<CheckResult> {
  const check = "SPF";
  const answer = await txtOfKind(record, dns, (t) => /^v=spf1(\s|$)/i.test(t));
  if (!answer.ok && !answer.missing) return lookupFailed(check, record.name, answer, dns);
  if (!answer.ok) return fail(check, `${record.name} has no SPF record (v=spf1)`, publish([record]));
  if (answer.values.length > 1) {
    return fail(
      check,
      `${record.name} has ${answer.values.length} SPF records (${answer.values.map((v) => `"${v}"`).join(", ")}): a permerror for every receiver (RFC 7208 §4.5)`,
      `keep only one: ${publish([record])}`,
    );
  }
  const found = answer.values[0]!;
  if (collapse(found) === collapse(record.text)) return pass(check, `${record.name} "${found}"`);
  return fail(check, `${record.name} is "${found}": ${spfDifference(found, record.text)}`, `replace it: ${publish([record])}`);
}

/** Why two SPF records differ, term by term (mechanisms and modifiers, RFC 7208 §4.6.1). */
export function spfDifference(found: string, expected: string): string {
  const terms = (s: string) => collapse(s).split(" ").slice(1);
  const have = terms(found);
  const want = terms(expected);
  const allOf = (ts: string[]) => ts.find((t) => /^[-+~?]?all$/.test(t));
  const parts: string[] = [];
  const [haveAll, wantAll] = [allOf(have), allOf(want)];
  if (haveAll !== wantAll) parts.push(haveAll ? `ends in ${haveAll} instead of ${wantAll ?? "no all"}` : `lacks ${wantAll}`);
  const rest = (ts: string[]) => ts.filter((t) => t !== allOf(ts));
  const missing = rest(want).filter((t) => !have.includes(t));
  const extra = rest(have).filter((t) => !want.includes(t));
  if (missing.length > 0) parts.push(`lacks ${missing.join(" ")}`);
  if (extra.length > 0) parts.push(`has ${extra.join(" ")}, which the relays do not need`);
  if (parts.length === 0) parts.push("the same terms in another order");
  return parts.join("; ");
}

async function checkDkim(record: Txt, dns: DoctorResolver, selector: string): Promise<CheckResult> {
  const check = `DKIM ${selector}`;
  const answer = await dns.txt(record.name);
  if (!answer.ok && !answer.missing) return lookupFailed(check, record.name, answer, dns);
  if (!answer.ok) return fail(check, `${record.name} has no TXT record: mail signed with ${selector} fails DKIM`, publish([record]));
  // Whitespace is insignificant in a key record (RFC 6376 §3.6.1); some DNS panels insert it.
  const bare = (s: string) => s.replace(/\s+/g, "");
  const keys = answer.values.filter((v) => /^v=DKIM1\b|(^|;)\s*p=/i.test(v));
  if (keys.length > 1) {
    return fail(check, `${record.name} has ${keys.length} key records: verifiers may pick either`, `keep only one: ${publish([record])}`);
  }
  const found = keys[0] ?? answer.values[0]!;
  if (bare(found) === bare(record.text)) return pass(check, `${record.name} "${short(found)}"`);
  const keyOf = (s: string) => /(?:^|;)\s*p=([^;]*)/i.exec(s)?.[1]?.replace(/\s+/g, "") ?? "";
  const why = keyOf(found) === keyOf(record.text) ? "its tags differ" : keyOf(found) === "" ? "it has no key (p=)" : "its public key is not the edge's";
  return fail(check, `${record.name} is "${short(found)}": ${why}, so mail signed with ${selector} fails DKIM`, `replace it: ${publish([record])}`);
}

function tags(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return out;
}

/** The URIs of a `rua=` list (RFC 7489 §6.4, RFC 8460 §3), lower-cased, size limits dropped. */
function ruaList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((u) => u.trim().replace(/!\d+[kmgt]?$/i, "").toLowerCase())
    .filter(Boolean);
}

async function checkDmarc(record: Txt, dns: DoctorResolver, reportAddress: string): Promise<CheckResult> {
  const check = "DMARC";
  const answer = await txtOfKind(record, dns, (t) => /^v=DMARC1\s*(;|$)/i.test(t));
  if (!answer.ok && !answer.missing) return lookupFailed(check, record.name, answer, dns);
  if (!answer.ok) return fail(check, `${record.name} has no DMARC record: receivers apply no policy and send us no reports`, publish([record]));
  if (answer.values.length > 1) {
    return fail(check, `${record.name} has ${answer.values.length} DMARC records: receivers then apply none (RFC 7489 §6.6.3)`, `keep only one: ${publish([record])}`);
  }
  const found = answer.values[0]!;
  const t = tags(found);
  const problems: string[] = [];
  const policy = t.get("p")?.toLowerCase();
  if (!policy) problems.push("it has no p= policy");
  else if (!["none", "quarantine", "reject"].includes(policy)) problems.push(`p=${policy} is not none, quarantine or reject`);
  if (!ruaList(t.get("rua")).includes(`mailto:${reportAddress.toLowerCase()}`)) problems.push(`its rua does not include mailto:${reportAddress}, so no aggregate reports reach the edge`);
  if (problems.length > 0) return fail(check, `${record.name} is "${found}": ${problems.join("; ")}`, `replace it: ${publish([record])}`);
  return pass(check, `${record.name} "${found}"`);
}

async function checkMtaStsId(record: Txt, dns: DoctorResolver): Promise<CheckResult> {
  const check = "MTA-STS TXT";
  const answer = await txtOfKind(record, dns, (t) => /^v=STSv1\s*(;|$)/.test(t));
  if (!answer.ok && !answer.missing) return lookupFailed(check, record.name, answer, dns);
  if (!answer.ok) return fail(check, `${record.name} has no v=STSv1 record: senders never look for the policy`, publish([record]));
  if (answer.values.length > 1) {
    return fail(check, `${record.name} has ${answer.values.length} v=STSv1 records: senders then ignore the policy (RFC 8461 §3.1)`, `keep only one: ${publish([record])}`);
  }
  const want = tags(record.text).get("id");
  const have = tags(answer.values[0]!).get("id");
  if (have === want) return pass(check, `${record.name} id=${have}`);
  return fail(
    check,
    `${record.name} has id=${have ?? "(none)"}, the edge's policy id is ${want}: senders keep using the policy they cached`,
    `replace it: ${publish([record])}`,
  );
}

async function checkTlsRpt(record: Txt, dns: DoctorResolver): Promise<CheckResult> {
  const check = "TLS-RPT";
  const answer = await txtOfKind(record, dns, (t) => /^v=TLSRPTv1\s*(;|$)/.test(t));
  if (!answer.ok && !answer.missing) return lookupFailed(check, record.name, answer, dns);
  if (!answer.ok) return fail(check, `${record.name} has no v=TLSRPTv1 record: senders send no TLS failure reports`, publish([record]));
  if (answer.values.length > 1) {
    return fail(check, `${record.name} has ${answer.values.length} v=TLSRPTv1 records: senders then send no reports (RFC 8460 §3)`, `keep only one: ${publish([record])}`);
  }
  const have = ruaList(tags(answer.values[0]!).get("rua"));
  const missing = ruaList(tags(record.text).get("rua")).filter((u) => !have.includes(u));
  if (missing.length > 0) return fail(check, `${record.name} is "${answer.values[0]}": its rua lacks ${missing.join(", ")}`, `replace it: ${publish([record])}`);
  return pass(check, `${record.name} "${answer.values[0]}"`);
}

async function checkSrv(record: Extract<DnsRecord, { type: "SRV" }>, dns: DoctorResolver, label: string): Promise<CheckResult> {
  const check = `SRV ${label}`;
  const answer = await dns.srv(record.name);
  if (!answer.ok && !answer.missing) return lookupFailed(check, record.name, answer, dns);
  const target = canonicalName(record.target);
  const want = `${target}:${record.port}`;
  if (!answer.ok) return fail(check, `${record.name} has no SRV record: mail clients cannot discover ${want}`, publish([record]));
  const found = answer.values.map((s) => `${canonicalName(s.name)}:${s.port}`);
  if (found.includes(want)) return pass(check, `${record.name} → ${want}`);
  return fail(check, `${record.name} points at ${found.join(", ")}, not ${want}`, `replace it: ${publish([record])}`);
}

async function checkWebHost(record: Extract<DnsRecord, { type: "CNAME" }>, dns: DoctorResolver): Promise<CheckResult> {
  const name = canonicalName(record.name);
  const check = `host ${name}`;
  const [addresses, cname] = await Promise.all([dns.addresses(name), dns.cname(name)]);
  const target = canonicalName(record.target);
  // A Workers custom domain publishes proxied A/AAAA records instead of the CNAME: both are fine.
  if (cname.ok && canonicalName(cname.values[0]!) !== target) {
    return fail(check, `${name} is a CNAME to ${cname.values[0]}, not the edge (${target})`, `replace it: ${publish([record])}`);
  }
  if (!addresses.ok && !addresses.missing) return lookupFailed(check, name, addresses, dns);
  if (!addresses.ok) return fail(check, `${name} does not resolve`, publish([record]));
  return pass(check, `${name}${cname.ok ? ` → ${target}` : ""} → ${addresses.values.join(", ")}`);
}

function short(text: string): string {
  return text.length > 72 ? `${text.slice(0, 60)}…${text.slice(-8)}` : text;
}
