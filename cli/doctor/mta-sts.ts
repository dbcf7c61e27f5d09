/**
 * The MTA-STS policy as a sending MTA sees it (RFC 8461): fetched from
 * `https://mta-sts.<domain>/.well-known/mta-sts.txt` at the address the operator's resolver gives,
 * then parsed, matched against the MX hosts and compared with the policy the edge publishes.
 *
 * Callers may rely on: `parsePolicy` implements §3.2 (fields on LF or CRLF lines; version STSv1,
 * mode, max_age ≤ 31557600 and, unless mode is none, at least one mx) and reports every problem;
 * MX matching is common/mta-sts.ts (RFC 8461 §4.1); `fetchPolicy` follows no
 * redirect (§3.3), trusts the system CAs plus the given ones, verifies the certificate for
 * `mta-sts.<domain>`, requires 200 and text/plain, reads at most 64 KiB and never outlives its
 * timeout; `checkMtaSts` gives the fetch line, then (when fetched) syntax, coverage and equality.
 */
import { request } from "node:https";
import { MxPattern, type Domain } from "../../common/contract.ts";
import { mxPatternMatches } from "../../common/mta-sts.ts";
import { fail, pass, type CheckResult } from "./report.ts";
import { canonicalName, type DoctorResolver } from "./resolver.ts";
import { describeError, seconds, trustedRoots } from "./tls.ts";

export const MAX_AGE_LIMIT = 31_557_600;
const MAX_POLICY_BYTES = 64 * 1024;
export const POLICY_PATH = "/.well-known/mta-sts.txt";

export interface ParsedPolicy {
  version?: string;
  mode?: string;
  maxAge?: number;
  mx: string[];
  problems: string[];
}

export function parsePolicy(text: string): ParsedPolicy {
  const policy: ParsedPolicy = { mx: [], problems: [] };
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  for (const [i, line] of lines.entries()) {
    const m = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,31}):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!m) {
      policy.problems.push(`line ${i + 1} is not "key: value": ${JSON.stringify(line.slice(0, 60))}`);
      continue;
    }
    const [, key, value] = m as unknown as [string, string, string];
    if (key !== "mx" && seen.has(key) && ["version", "mode", "max_age"].includes(key)) {
      policy.problems.push(`${key} appears more than once`);
      continue;
    }
    seen.add(key);
    if (key === "version") {
      policy.version = value;
      if (value !== "STSv1") policy.problems.push(`version is "${value}", not STSv1`);
      if (i !== 0) policy.problems.push("version is not the first field");
    } else if (key === "mode") {
      policy.mode = value;
      if (!["enforce", "testing", "none"].includes(value)) policy.problems.push(`mode "${value}" is not enforce, testing or none`);
    } else if (key === "max_age") {
      if (!/^\d{1,10}$/.test(value)) policy.problems.push(`max_age "${value}" is not a number of seconds`);
      else {
        policy.maxAge = Number(value);
        if (policy.maxAge > MAX_AGE_LIMIT) policy.problems.push(`max_age ${value} exceeds ${MAX_AGE_LIMIT} (one year)`);
      }
    } else if (key === "mx") {
      if (!MxPattern.safeParse(value.replace(/\.$/, "")).success) policy.problems.push(`mx "${value}" is not a host name or *.pattern`);
      else policy.mx.push(canonicalName(value));
    }
    // Other fields are extensions, which receivers ignore (§3.2).
  }
  if (policy.version === undefined) policy.problems.push("no version field");
  if (policy.mode === undefined) policy.problems.push("no mode field");
  if (policy.maxAge === undefined && !policy.problems.some((p) => p.startsWith("max_age"))) policy.problems.push("no max_age field");
  if (policy.mx.length === 0 && policy.mode !== "none") policy.problems.push("no mx field");
  return policy;
}

export type PolicyFetch =
  | { ok: true; address: string; status: number; contentType: string; body: string }
  | { ok: false; problem: string; fix: string };

export async function fetchPolicy(
  domain: string,
  dns: DoctorResolver,
  opts: { port: number; ca: string[]; timeoutMs: number; edgeHost: string },
): Promise<PolicyFetch> {
  const host = `mta-sts.${canonicalName(domain)}`;
  const pointAtEdge = `point ${host} at the edge (CNAME ${opts.edgeHost}, or a Workers custom domain)`;
  const addresses = await dns.addresses(host);
  if (!addresses.ok) return { ok: false, problem: `${host}: ${addresses.error}`, fix: pointAtEdge };
  const address = addresses.values[0]!;
  const url = `https://${host}${POLICY_PATH}`;
  return await new Promise<PolicyFetch>((resolve) => {
    const done = (result: PolicyFetch) => {
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => done({ ok: false, problem: `${url} at ${address}:${opts.port}: no answer within ${seconds(opts.timeoutMs)}`, fix: `check that ${host} serves HTTPS on port ${opts.port}; ${pointAtEdge}` }),
      opts.timeoutMs,
    );
    const req = request(
      {
        host: address,
        port: opts.port,
        path: POLICY_PATH,
        method: "GET",
        servername: host,
        headers: { host, "user-agent": "edgemail-doctor" },
        ca: trustedRoots(opts.ca),
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const contentType = String(res.headers["content-type"] ?? "");
        if (status >= 300 && status < 400) {
          return done({ ok: false, problem: `${url} redirects (${status} to ${res.headers.location ?? "?"}); senders do not follow redirects (RFC 8461 §3.3)`, fix: `serve the policy itself at ${url}; ${pointAtEdge}` });
        }
        if (status !== 200) {
          return done({ ok: false, problem: `${url} answered HTTP ${status}`, fix: `${pointAtEdge}; the edge serves the policy only for a domain with MTA-STS settings` });
        }
        if (!/^text\/plain\s*(;|$)/i.test(contentType)) {
          return done({ ok: false, problem: `${url} is served as "${contentType || "no content type"}", not text/plain (RFC 8461 §3.2)`, fix: pointAtEdge });
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_POLICY_BYTES) return done({ ok: false, problem: `${url} is larger than 64 KiB`, fix: pointAtEdge });
          chunks.push(chunk);
        });
        res.on("end", () => done({ ok: true, address, status, contentType, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", (err) => done({ ok: false, problem: `${url}: ${describeError(err)}`, fix: pointAtEdge }));
      },
    );
    req.on("error", (err) => done({ ok: false, ...httpsProblem(err, url, host, address, opts.port, pointAtEdge) }));
    req.end();
  });
}

function httpsProblem(err: NodeJS.ErrnoException, url: string, host: string, address: string, port: number, pointAtEdge: string): { problem: string; fix: string } {
  const code = err.code ?? "";
  const at = `${url} at ${address}:${port}`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return { problem: `${at}: the certificate does not name ${host}`, fix: `serve ${host} with a certificate for it; ${pointAtEdge}` };
  if (code === "CERT_HAS_EXPIRED") return { problem: `${at}: the certificate has expired`, fix: `renew the certificate of ${host}` };
  if (/CERT|SELF_SIGNED|UNABLE_TO/.test(code)) return { problem: `${at}: the certificate does not verify (${code})`, fix: `serve ${host} with a certificate from a public CA; ${pointAtEdge}` };
  return { problem: `${at}: ${describeError(err)}`, fix: `check that ${host} serves HTTPS on port ${port}; ${pointAtEdge}` };
}

/**
 * The policy lines: fetch, then syntax, MX coverage and equality with the edge's policy.
 * `mxHosts` are every MX host a sender may meet (found in DNS and expected), so an MX the policy
 * does not cover is found even when the MX check itself fails.
 */
export async function checkMtaSts(
  domain: string,
  edgePolicy: NonNullable<Domain["mtaSts"]>,
  mxHosts: string[],
  dns: DoctorResolver,
  opts: { port: number; ca: string[]; timeoutMs: number; edgeHost: string },
): Promise<CheckResult[]> {
  const host = `mta-sts.${canonicalName(domain)}`;
  const pointAtEdge = `point ${host} at the edge (CNAME ${opts.edgeHost}) so it serves the edge's policy`;
  const fetched = await fetchPolicy(domain, dns, opts);
  if (!fetched.ok) return [fail("MTA-STS policy fetch", fetched.problem, fetched.fix)];
  const results: CheckResult[] = [pass("MTA-STS policy fetch", `https://${host}${POLICY_PATH} at ${fetched.address}:${opts.port}: 200 ${fetched.contentType}, ${Buffer.byteLength(fetched.body)} bytes`)];
  const policy = parsePolicy(fetched.body);
  if (policy.problems.length > 0) {
    results.push(fail("MTA-STS policy syntax", policy.problems.join("; "), pointAtEdge));
    return results;
  }
  results.push(pass("MTA-STS policy syntax", `STSv1, mode ${policy.mode}, max_age ${policy.maxAge}, mx ${policy.mx.join(" ") || "(none)"}`));

  if (policy.mode === "none") results.push(pass("MTA-STS policy covers MX", "mode none: senders apply no MX restriction"));
  else {
    const uncovered = [...new Set(mxHosts.map(canonicalName))].filter((h) => !policy.mx.some((p) => mxPatternMatches(p, h)));
    results.push(
      uncovered.length === 0
        ? pass("MTA-STS policy covers MX", mxHosts.map((h) => `${h} (mx: ${policy.mx.find((p) => mxPatternMatches(p, h))})`).join(", "))
        : fail(
            "MTA-STS policy covers MX",
            `no mx line of the policy (${policy.mx.join(", ")}) matches ${uncovered.join(", ")}: senders enforcing it refuse to deliver there`,
            `add mx lines for ${uncovered.join(", ")} to the policy (the domain's MTA-STS mx setting, or leave it to follow mxHosts), or ${pointAtEdge}`,
          ),
    );
  }

  const sameMx = [...policy.mx].sort().join(" ") === [...edgePolicy.mx].map(canonicalName).sort().join(" ");
  const differences = [
    ...(policy.mode !== edgePolicy.mode ? [`mode ${policy.mode} (edge: ${edgePolicy.mode})`] : []),
    ...(policy.maxAge !== edgePolicy.maxAge ? [`max_age ${policy.maxAge} (edge: ${edgePolicy.maxAge})`] : []),
    ...(!sameMx ? [`mx ${policy.mx.join(" ")} (edge: ${edgePolicy.mx.join(" ")})`] : []),
  ];
  results.push(
    differences.length === 0
      ? pass("MTA-STS policy matches edge", `the edge's policy ${edgePolicy.policyId} (mode ${edgePolicy.mode})`)
      : fail("MTA-STS policy matches edge", `${host} serves another policy than the edge's ${edgePolicy.policyId}: ${differences.join(", ")}`, pointAtEdge),
  );
  return results;
}
