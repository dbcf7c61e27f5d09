/**
 * The MX hosts' addresses and their reverse DNS: many receivers refuse or junk mail from an
 * address whose PTR is missing or does not resolve back to it (forward-confirmed reverse DNS,
 * RFC 8601 §3 "iprev"), and the relay sends from the same addresses it receives on.
 *
 * Callers may rely on: `checkMxAddresses` gives one line per MX host (A/AAAA present) and hands
 * back the addresses for the TLS probes; `checkFcrdns` one line per distinct address: a PTR
 * exists and one of its names resolves back to that address.
 */
import { fail, pass, type CheckResult } from "./report.ts";
import { canonicalName, type DoctorResolver } from "./resolver.ts";

export async function checkMxAddresses(hosts: string[], dns: DoctorResolver): Promise<{ results: CheckResult[]; addresses: Map<string, string[]> }> {
  const addresses = new Map<string, string[]>();
  const results = await Promise.all(
    hosts.map(async (host) => {
      const check = `addresses ${host}`;
      const answer = await dns.addresses(host);
      if (answer.ok) {
        addresses.set(host, answer.values);
        return pass(check, `${host} → ${answer.values.join(", ")}`);
      }
      return fail(
        check,
        `${host}: ${answer.error}`,
        answer.missing
          ? `publish the relay's public address: ${host}. 3600 IN A <relay IPv4> (and AAAA <relay IPv6> if it has one)`
          : `check the zone's name servers and the resolver (${dns.describe})`,
      );
    }),
  );
  return { results, addresses };
}

export async function checkFcrdns(addresses: Map<string, string[]>, dns: DoctorResolver): Promise<CheckResult[]> {
  // One line per address, named after the first MX host that has it.
  const hostOf = new Map<string, string>();
  for (const [host, list] of addresses) for (const a of list) if (!hostOf.has(a)) hostOf.set(a, host);
  return await Promise.all(
    [...hostOf].map(async ([address, host]) => {
      const check = `FCrDNS ${address}`;
      const setPtr = `ask whoever owns ${address} (the VPS provider's reverse DNS setting) to set its PTR to ${host}`;
      const ptr = await dns.ptr(address);
      if (!ptr.ok) {
        return fail(check, ptr.missing ? `${address} has no PTR record: receivers doing iprev reject or junk its mail` : `PTR of ${address}: ${ptr.error}`, setPtr);
      }
      const confirmations = await Promise.all(ptr.values.map(async (name) => ({ name, forward: await dns.addresses(name) })));
      const confirmed = confirmations.find((c) => c.forward.ok && c.forward.values.includes(address));
      if (confirmed) {
        const note = canonicalName(confirmed.name) === canonicalName(host) ? "" : ` (not ${host}: fine if the relay greets as ${confirmed.name})`;
        return pass(check, `${address} → ${confirmed.name} → ${address}${note}`);
      }
      const seen = confirmations.map((c) => `${c.name} → ${c.forward.ok ? c.forward.values.join(", ") : "nothing"}`).join("; ");
      return fail(check, `${address} has PTR ${ptr.values.join(", ")}, which does not resolve back to it (${seen})`, `${setPtr}, whose A/AAAA record is ${address}`);
    }),
  );
}
