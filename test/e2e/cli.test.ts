/**
 * The `edgemail` CLI against the real local stack: an operator's whole session (domains, users,
 * passwords, quotas, aliases, domain settings, DNS records, DKIM rotation, the outbound queue,
 * reports, removal) in human form and again in JSON form, and the errors scripts depend on
 * (wrong token, unreachable edge, refused requests, bad arguments) with their exit codes.
 * The human session, the exit codes and the local settings run the CLI as a real process, as an
 * operator runs it; the JSON session and the long lists of usage errors and help texts call the
 * same entry point (`run`) in this process, since a process start costs about a second here and
 * would dominate the file. Colour and the removal question are
 * checked on a real pseudo-terminal (util-linux `script`) when the machine has one.
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import nodemailer from "nodemailer";
import type { Account, Alias, DkimPublicKeys, Domain, DomainWithSettings, DmarcReportSummary, QueuedJob, QueuedJobList, TlsReportSummary } from "../../common/contract.ts";
import { run } from "../../cli/edgemail.ts";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
const CLI = fileURLToPath(new URL("../../cli/edgemail.ts", import.meta.url));
const ANSI = /\x1b\[/;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with a pipe for stdout and stderr: never a terminal, so never a colour code. */
function edgemail(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env } }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code ?? 1) : 0;
      assert.doesNotMatch(stdout + stderr, ANSI, `no colour codes without a terminal: edgemail ${args.join(" ")}`);
      resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
    });
  });
}

/** The same CLI entry point in this process, with pipes (never a terminal) as its output. */
async function here(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await run(args, { env: { ...env }, out: (l) => (stdout += `${l}\n`), err: (l) => (stderr += `${l}\n`), stdoutIsTTY: false });
  assert.doesNotMatch(stdout + stderr, ANSI, `no colour codes without a terminal: edgemail ${args.join(" ")}`);
  return { code, stdout, stderr };
}

type Runner = typeof edgemail;

/** Asserts success and returns stdout. */
async function ok(args: string[], env: Record<string, string>, runner: Runner = edgemail): Promise<string> {
  const r = await runner(args, env);
  assert.equal(r.code, 0, `edgemail ${args.join(" ")}: ${r.stderr}`);
  assert.equal(r.stderr, "", `edgemail ${args.join(" ")} wrote to stderr`);
  return r.stdout;
}

/** Asserts success under --json and that stdout is one JSON document and nothing else. */
async function json<T>(args: string[], env: Record<string, string>, runner: Runner = edgemail): Promise<T> {
  return JSON.parse(await ok([...args, "--json"], env, runner)) as T;
}

const hasScript = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Runs the CLI on a pseudo-terminal (stdin and stdout are a TTY), typing `input`. */
function onTerminal(args: string[], env: Record<string, string>, input = ""): Promise<Run> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return new Promise((resolve) => {
    const child = execFile("script", ["-qec", [process.execPath, CLI, ...args].map(quote).join(" "), "/dev/null"], { env: { PATH: process.env.PATH ?? "", ...env } }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code ?? 1) : 0;
      resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
    });
    child.stdin!.end(input);
  });
}

/** Lines of a human table after its header, split on runs of two or more spaces. */
function rows(out: string, header: RegExp): string[][] {
  const lines = out.split("\n");
  const at = lines.findIndex((l) => header.test(l));
  assert.ok(at >= 0, `no header ${header} in:\n${out}`);
  return lines
    .slice(at + 1)
    .filter((l) => l.trim() !== "")
    .map((l) => l.trim().split(/ {2,}/));
}

/** The TXT strings of the zone line that names `name`, joined: what a resolver's answer gives. */
function zoneTxt(zone: string, name: string): { strings: string[]; joined: string } | undefined {
  const line = zone.split("\n").find((l) => l.startsWith(`${name}. `) && / IN\s+TXT /.test(l));
  if (!line) return undefined;
  const strings = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, "$1"));
  return { strings, joined: strings.join("") };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("edgemail CLI", () => {
  let stack: Stack;
  let env: Record<string, string>;

  before(async () => {
    stack = await startTestStack();
    env = { EDGEMAIL_URL: stack.edgeUrl, EDGEMAIL_TOKEN: stack.secrets.adminToken };
  });
  after(async () => {
    await stack?.cleanup();
  });

  const login = async (username: string, password: string) =>
    (
      await fetch(`${stack.edgeUrl}/relay/v1/auth`, {
        method: "POST",
        headers: { authorization: `Bearer ${stack.secrets.relayKey}`, "content-type": "application/json" },
        body: JSON.stringify({ username, password }),
      })
    ).status;

  /** Submits through the relay's real submission port: a remote recipient becomes a queued job (no relay delivers in this stack). */
  async function submit(user: string, pass: string, to: string[]): Promise<void> {
    const t = nodemailer.createTransport({
      host: "127.0.0.1",
      port: stack.relay!.ports.submission!,
      secure: false,
      requireTLS: true,
      auth: { user, pass },
      tls: { rejectUnauthorized: false },
      logger: false,
    });
    try {
      const info = await t.sendMail({ from: user, to, subject: "queued by the CLI test", text: "Hello.\n" });
      assert.match(info.response, /^250 /);
    } finally {
      t.close();
    }
  }

  it("runs an operator's session in human form", async () => {
    // Domains.
    assert.equal(
      await ok(["domain", "add", "cli.example", "--mx", "mx1.cli.example,mx2.cli.example"], env),
      "added cli.example\nnext: publish the records `edgemail dns cli.example` prints\n",
    );
    const domains = await ok(["domain", "list"], env);
    assert.match(domains, /^DOMAIN\s+MTA-STS\n/);
    assert.match(domains, /\ncli\.example\s+testing\n/);
    assert.match(await ok(["domain", "show", "cli.example"], env), /^mx hosts\s+mx1\.cli\.example mx2\.cli\.example$/m);

    // Users: a generated password logs in, is replaced by `passwd`, quotas in human units.
    const added = await ok(["user", "add", "ann@cli.example"], env);
    const password = /^password: (\S+)$/m.exec(added)?.[1] ?? "";
    assert.ok(password.length >= 20, added);
    assert.equal(await login("ann@cli.example", password), 200, "the printed password logs in");
    assert.match(await ok(["user", "add", "bob@cli.example", "--password", "bob-secret-1", "--quota", "500M"], env), /^added bob@cli\.example \(quota 500M\)$/m);

    const changed = await ok(["user", "passwd", "ann@cli.example"], env);
    const newPassword = /^password: (\S+)$/m.exec(changed)?.[1] ?? "";
    assert.ok(newPassword.length >= 20 && newPassword !== password, changed);
    assert.equal(await login("ann@cli.example", password), 401, "the old password is refused");
    assert.equal(await login("ann@cli.example", newPassword), 200, "the new password logs in");

    assert.equal(await ok(["user", "quota", "ann@cli.example", "2G"], env), "quota of ann@cli.example: 2G\n");
    const users = rows(await ok(["user", "list"], env), /^ADDRESS\s+QUOTA\s+USED$/);
    assert.deepEqual(users.find((r) => r[0] === "ann@cli.example")?.slice(0, 2), ["ann@cli.example", "2G"]);
    assert.deepEqual(users.find((r) => r[0] === "bob@cli.example")?.slice(0, 2), ["bob@cli.example", "500M"]);
    assert.match(users.find((r) => r[0] === "bob@cli.example")![2]!, /^\d+(\.\d)?[BKMG] \d+%$/);
    await ok(["user", "quota", "bob@cli.example", "none"], env);
    assert.deepEqual(rows(await ok(["user", "list"], env), /^ADDRESS/).find((r) => r[0] === "bob@cli.example")?.[1], "-");

    // Aliases.
    assert.equal(await ok(["alias", "add", "team@cli.example", "ann@cli.example", "bob@cli.example"], env), "added team@cli.example → ann@cli.example, bob@cli.example\n");
    await ok(["alias", "add", "sales@cli.example", "bob@cli.example"], env);
    const aliases = rows(await ok(["alias", "list", "cli.example"], env), /^ALIAS\s+TARGETS\s+CREATED$/);
    assert.deepEqual(aliases.map((r) => r.slice(0, 2)).sort(), [
      ["sales@cli.example", "bob@cli.example"],
      ["team@cli.example", "ann@cli.example, bob@cli.example"],
    ]);
    assert.equal(await ok(["alias", "remove", "sales@cli.example"], env), "removed sales@cli.example\n");
    assert.deepEqual(rows(await ok(["alias", "list", "cli.example"], env), /^ALIAS/).map((r) => r[0]), ["team@cli.example"]);

    // Domain settings, as `domain show` then reports them.
    await ok(["domain", "set", "cli.example", "--mta-sts", "enforce", "--max-age", "14d", "--relay-ip", "192.0.2.25", "--catch-all", "ann@cli.example", "--plus-delimiter", "-"], env);
    const shown = await ok(["domain", "show", "cli.example"], env);
    assert.match(shown, /^mta-sts\s+enforce, max-age 14d, mx mx1\.cli\.example mx2\.cli\.example/m);
    assert.match(shown, /^relay ips\s+192\.0\.2\.25$/m);
    assert.match(shown, /^catch-all\s+ann@cli\.example$/m);
    assert.match(shown, /^plus delimiter\s+-$/m);
    await ok(["domain", "set", "cli.example", "--max-age", "2d"], env);
    assert.match(await ok(["domain", "show", "cli.example"], env), /^mta-sts\s+enforce, max-age 2d,/m, "--max-age alone keeps the mode");

    // DNS: the zone snippet holds the MX records and the RSA DKIM key split into ≤255-octet strings.
    const keys = await json<DkimPublicKeys>(["dkim", "show", "cli.example"], env);
    const zone = await ok(["dns", "cli.example"], env);
    assert.match(zone, /^cli\.example\.\s+\d+\s+IN\s+MX\s+10\s+mx1\.cli\.example\.$/m);
    assert.match(zone, /^cli\.example\.\s+\d+\s+IN\s+MX\s+20\s+mx2\.cli\.example\.$/m);
    const rsa = keys.keys.find((k) => k.algorithm === "rsa-sha256")!;
    const txt = zoneTxt(zone, rsa.dnsName);
    assert.ok(txt, `no TXT line for ${rsa.dnsName} in:\n${zone}`);
    assert.ok(txt.strings.length >= 2 && txt.strings.every((s) => s.length <= 255), "split into strings of at most 255 octets");
    assert.equal(txt.joined, rsa.dnsValue);

    // DKIM: show, then rotate at once: the new selectors are listed, the old ones retired.
    const dkim = await ok(["dkim", "show", "cli.example"], env);
    assert.match(dkim, /^SELECTOR\s+ALGORITHM\s+STATUS\s+SIGNS FROM\s+RETIRES$/m);
    assert.match(dkim, /^s\d{8}r\._domainkey\.cli\.example\. IN TXT "v=DKIM1; k=rsa; p=[^"]+" "[^"]+"$/m);
    assert.match(dkim, /^s\d{8}e\._domainkey\.cli\.example\. IN TXT "v=DKIM1; k=ed25519; p=[^"]+"$/m);
    const oldSelectors = keys.keys.map((k) => k.selector);
    const rotated = await ok(["dkim", "rotate", "cli.example", "--delay", "0"], env);
    assert.match(rotated, /the new keys sign now: publish these records at once/);
    const table = rows(rotated.split("\n\n")[0]!, /^SELECTOR/);
    for (const selector of oldSelectors) assert.equal(table.find((r) => r[0] === selector)?.[2], "retired", `${selector} retired`);
    const fresh = table.filter((r) => !oldSelectors.includes(r[0]!));
    assert.deepEqual(fresh.map((r) => [r[1], r[2]]).sort(), [["ed25519-sha256", "active"], ["rsa-sha256", "active"]]);
    for (const [selector] of fresh) assert.match(rotated, new RegExp(`^${selector}\\._domainkey\\.cli\\.example\\. IN TXT "v=DKIM1; `, "m"));

    // The queue: a message to a remote recipient waits in it; show, retry, delete.
    await submit("bob@cli.example", "bob-secret-1", ["someone@remote.test", "other@remote.test"]);
    const queue = rows(await ok(["queue", "list", "--domain", "remote.test"], env), /^ID\s+DOMAIN\s+FROM\s+RECIPIENTS\s+SIZE\s+TRIES\s+STATE\s+NEXT ATTEMPT$/);
    assert.equal(queue.length, 1);
    const [id, domain, from, recipients, , tries, state] = queue[0]!;
    assert.deepEqual([domain, from, recipients, tries, state], ["remote.test", "bob@cli.example", "someone@remote.test +1", "0", "queued"]);
    const job = await ok(["queue", "show", id!], env);
    assert.match(job, /^account\s+bob@cli\.example$/m);
    assert.deepEqual(
      rows(job, /^RECIPIENT\s+STATE\s+TRIES\s+LAST RESULT$/).map((r) => r.slice(0, 3)),
      [
        ["someone@remote.test", "queued", "0"],
        ["other@remote.test", "queued", "0"],
      ],
    );
    assert.match(await ok(["queue", "retry", id!], env), new RegExp(`^${id} is due now`));
    assert.equal(await ok(["queue", "delete", id!], env), `deleted ${id}\n`);
    assert.deepEqual(rows(await ok(["queue", "list"], env), /^ID/), []);
    const gone = await edgemail(["queue", "show", id!], env);
    assert.equal(gone.code, 5, gone.stderr);

    // Reports over a range with none: the summary line, the header, no rows.
    const tls = await ok(["reports", "tls", "--domain", "cli.example", "--since", "7d"], env);
    assert.match(tls, /^TLS reports for cli\.example, .* to .*: 0\n/);
    assert.deepEqual(rows(tls, /^ORGANIZATION\s+POLICY\s+DOMAIN\s+REPORTS\s+OK\s+FAILED\s+FAILURES BY TYPE$/), []);
    const dmarc = await ok(["reports", "dmarc", "--since", "2000-01-01", "--until", "2000-01-31"], env);
    assert.match(dmarc, /^DMARC reports for all domains, 2000-01-01 00:00Z to 2000-01-31 00:00Z: 0\n/);
    assert.deepEqual(rows(dmarc, /^SOURCE IP\s+ORGANIZATION\s+MESSAGES\s+SPF ALIGNED\s+DKIM ALIGNED\s+NONE\s+QUARANTINE\s+REJECT$/), []);

    // Removal: the domain is refused while it has accounts; users and alias first, then it goes.
    const refused = await edgemail(["domain", "remove", "cli.example"], env);
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /^edgemail: DELETE \/domains\/cli\.example: .*account/);
    await ok(["alias", "remove", "team@cli.example"], env);
    assert.equal(await ok(["user", "remove", "ann@cli.example"], env), "removed ann@cli.example\n");
    assert.equal(await login("ann@cli.example", newPassword), 401, "a removed account no longer logs in");
    await ok(["user", "remove", "bob@cli.example"], env);
    assert.equal(await ok(["domain", "remove", "cli.example"], env), "removed cli.example\n");
    assert.doesNotMatch(await ok(["domain", "list"], env), /cli\.example/);
  });

  it("runs the same session in JSON form: stdout is the edge's JSON and nothing else", async () => {
    const created = await json<Domain>(["domain", "add", "json.example", "--mta-sts", "off"], env, here);
    assert.equal(created.name, "json.example");
    assert.equal(created.mtaSts, null);
    assert.ok((await json<{ domains: Domain[] }>(["domain", "list"], env, here)).domains.some((d) => d.name === "json.example"));

    const ann = await json<Account & { password: string }>(["user", "add", "ann@json.example", "--quota", "1.5G"], env, here);
    assert.equal(ann.address, "ann@json.example");
    assert.equal(ann.quotaBytes, 1.5 * 1024 ** 3);
    assert.equal(await login("ann@json.example", ann.password), 200);
    const changed = await json<{ address: string; changed: boolean; password: string }>(["user", "passwd", "ann@json.example"], env, here);
    assert.equal(changed.changed, true);
    assert.equal(await login("ann@json.example", ann.password), 401);
    assert.equal(await login("ann@json.example", changed.password), 200);
    const given = await json<{ password?: string }>(["user", "passwd", "ann@json.example", "--password", "chosen-by-me-1"], env, here);
    assert.equal(given.password, undefined, "a password the operator chose is not echoed");
    assert.equal(await login("ann@json.example", "chosen-by-me-1"), 200);
    assert.deepEqual(await json(["user", "quota", "ann@json.example", "10K"], env, here), { address: "ann@json.example", quotaBytes: 10240 });
    const listed = (await json<{ accounts: Account[] }>(["user", "list"], env, here)).accounts.find((a) => a.address === "ann@json.example");
    assert.equal(listed?.quotaBytes, 10240);
    assert.equal(typeof listed?.usedBytes, "number");

    const alias = await json<Alias>(["alias", "add", "list@json.example", "ann@json.example", "friend@remote.test"], env, here);
    assert.deepEqual(alias.targets, ["ann@json.example", "friend@remote.test"]);
    assert.deepEqual((await json<{ aliases: Alias[] }>(["alias", "list", "json.example"], env, here)).aliases.map((a) => a.address), ["list@json.example"]);
    assert.deepEqual(await json(["alias", "remove", "list@json.example"], env, here), { address: "list@json.example", removed: true });

    const set = await json<DomainWithSettings>(["domain", "set", "json.example", "--mta-sts", "testing", "--mx", "relay.json.example", "--catch-all", "ann@json.example"], env, here);
    assert.deepEqual(set.settings.mxHosts, ["relay.json.example"]);
    assert.equal(set.settings.catchAll, "ann@json.example");
    assert.equal(set.mtaSts?.mode, "testing");
    assert.deepEqual(set.mtaSts?.mx, ["relay.json.example"]);
    const shown = await json<DomainWithSettings>(["domain", "show", "json.example"], env, here);
    assert.deepEqual(shown, set);
    const unset = await json<DomainWithSettings>(["domain", "set", "json.example", "--catch-all", "none", "--mta-sts", "off"], env, here);
    assert.equal(unset.settings.catchAll, null);
    assert.equal(unset.mtaSts, null);

    // Rotation with the default delay: the new keys wait 48 hours, the current ones sign until then.
    const before = await json<DkimPublicKeys>(["dkim", "show", "json.example"], env, here);
    const startedAt = Date.now();
    const rotated = await json<DkimPublicKeys>(["dkim", "rotate", "json.example"], env, here);
    const old = rotated.keys.filter((k) => before.keys.some((b) => b.selector === k.selector));
    const fresh = rotated.keys.filter((k) => !before.keys.some((b) => b.selector === k.selector));
    assert.deepEqual(fresh.map((k) => k.status), ["pending", "pending"]);
    for (const k of fresh) assert.ok(Math.abs(k.activeFrom - (startedAt + 48 * 3600_000)) < 60_000, "signs from now + 48h");
    for (const k of old) {
      assert.equal(k.status, "active");
      assert.equal(k.retiredAt, fresh[0]!.activeFrom);
    }

    const jobs = await json<QueuedJobList>(["queue", "list", "--all"], env, here);
    assert.ok(Array.isArray(jobs.jobs));
    await submit("ann@json.example", "chosen-by-me-1", ["far@remote.test"]);
    const [job] = (await json<QueuedJobList>(["queue", "list", "--domain", "remote.test"], env, here)).jobs;
    assert.ok(job, "the submission is queued");
    assert.deepEqual(job.recipients.map((r) => [r.recipient, r.state]), [["far@remote.test", "queued"]]);
    assert.equal((await json<QueuedJob>(["queue", "show", job.id], env, here)).id, job.id);
    const retried = await json<QueuedJob>(["queue", "retry", job.id], env, here);
    assert.ok(retried.nextAttemptAt !== null && retried.nextAttemptAt <= Date.now() + 1000);
    assert.deepEqual(await json(["queue", "delete", job.id], env, here), { id: job.id, deleted: true });

    const tls = await json<TlsReportSummary>(["reports", "tls", "--domain", "json.example", "--since", "1d"], env, here);
    assert.deepEqual([tls.domain, tls.reports, tls.rows], ["json.example", 0, []]);
    assert.ok(Math.abs(tls.since - (Date.now() - 86400_000)) < 60_000);
    const dmarc = await json<DmarcReportSummary>(["reports", "dmarc"], env, here);
    assert.deepEqual([dmarc.domain, dmarc.reports, dmarc.rows], [null, 0, []]);

    const refused = await here(["domain", "remove", "json.example", "--json"], env);
    assert.equal(refused.code, 5);
    assert.equal(refused.stdout, "", "errors never reach stdout");
    assert.match(refused.stderr, /^edgemail: DELETE \/domains\/json\.example: /);
    assert.deepEqual(await json(["user", "remove", "ann@json.example"], env, here), { address: "ann@json.example", removed: true });
    assert.deepEqual(await json(["domain", "remove", "json.example"], env, here), { domain: "json.example", removed: true });
  });

  it("errors: wrong token 4, unreachable edge 3, refused request 5, bad arguments 2, each with a clear message", async () => {
    const wrong = await edgemail(["domain", "list"], { ...env, EDGEMAIL_TOKEN: "not-the-token" });
    assert.equal(wrong.code, 4);
    assert.match(wrong.stderr, /^edgemail: the edge refused the admin token/);
    const down = await edgemail(["domain", "list", "--url", `http://127.0.0.1:${await freePort()}`, "--token", "x"], {});
    assert.equal(down.code, 3);
    assert.match(down.stderr, /^edgemail: the edge at http:\/\/127\.0\.0\.1:\d+ is unreachable/);
    const dup = await edgemail(["domain", "add", "edgemail.test"], env);
    assert.equal(dup.code, 5);
    assert.match(dup.stderr, /^edgemail: POST \/domains: /);
    const unknownUser = await edgemail(["user", "passwd", "nobody@edgemail.test", "--password", "long-enough-1"], env);
    assert.equal(unknownUser.code, 5);
    const noEdge = await edgemail(["domain", "list"], { EDGEMAIL_DATA: join(tmpdir(), "edgemail-no-such-folder") });
    assert.equal(noEdge.code, 2);
    assert.match(noEdge.stderr, /no edge given/);

    const bad: [string[], RegExp][] = [
      [["domain", "add"], /^edgemail: missing a domain name\nusage: edgemail domain add /],
      [["domain", "add", "a.example", "--mta-sts", "strict"], /--mta-sts: "strict" is not one of enforce, testing, none, off/],
      [["domain", "set", "cli.example"], /nothing to set/],
      [["domain", "set", "cli.example", "--max-age", "7"], /--max-age: "7" is not a duration/],
      [["user", "add", "x@edgemail.test", "--quota", "5 parsecs"], /--quota: "5 parsecs" is not a size/],
      [["user", "quota", "x@edgemail.test", "-1G"], /unknown option "-1"|is not a size/],
      [["user", "quota", "x@edgemail.test"], /missing an address and a size/],
      [["user", "list", "--bogus"], /^edgemail: unknown option "--bogus"\nusage: edgemail user list/],
      [["dkim", "rotate", "edgemail.test", "--delay", "soon"], /--delay: "soon" is not a duration/],
      [["queue", "show"], /missing a job id/],
      [["reports", "tls", "--since", "yesterday"], /--since: "yesterday" is neither a duration back from now/],
      [["alias", "add", "only@edgemail.test"], /missing an address and at least one target/],
      [["frobnicate"], /^edgemail: unknown command "frobnicate"\nusage: edgemail <group>/],
      [["user", "frobnicate"], /^edgemail: unknown command "user frobnicate"\nusage: edgemail user add/],
      [["user"], /^edgemail: no user command given/],
      [[], /^edgemail: no command given/],
      [["domain", "list", "--url"], /--url needs a value/],
    ];
    await Promise.all(
      bad.map(async ([args, message]) => {
        const r = await here(args, env);
        assert.equal(r.code, 2, `edgemail ${args.join(" ")}: ${r.stderr}`);
        assert.equal(r.stdout, "", `edgemail ${args.join(" ")}: usage errors go to stderr`);
        assert.match(r.stderr, message);
      }),
    );
  });

  it("prints the usage of every group and command with --help or -h, anywhere on the line, and exits 0", async () => {
    const commands: Record<string, string[]> = {
      domain: ["add", "list", "show", "set", "remove"],
      user: ["add", "passwd", "list", "quota", "remove"],
      alias: ["add", "list", "remove"],
      dkim: ["show", "rotate"],
      queue: ["list", "show", "retry", "delete"],
      reports: ["tls", "dmarc"],
    };
    const cases: [string[], RegExp][] = [
      [["--help"], /^usage: edgemail <group> <command>/],
      [["-h"], /^usage: edgemail <group> <command>/],
      [["dns", "--help"], /^usage: edgemail dns <domain>/],
      [["doctor", "example.org", "-h"], /^usage: edgemail doctor <domain>/],
      ...Object.entries(commands).flatMap(([group, names]): [string[], RegExp][] => [
        [[group, "--help"], new RegExp(`^usage: edgemail ${group} ${names[0]}`)],
        ...names.map((name): [string[], RegExp] => [[group, name, "--help"], new RegExp(`^usage: edgemail ${group} ${name}\\b`)]),
        [["--help", group, names.at(-1)!, "x", "--bogus"], new RegExp(`^usage: edgemail ${group} ${names.at(-1)}\\b`)],
      ]),
    ];
    await Promise.all(
      cases.map(async ([args, usage]) => {
        // No edge at all: help never needs one.
        const r = await here(args, { EDGEMAIL_URL: "http://127.0.0.1:1", EDGEMAIL_TOKEN: "x" });
        assert.equal(r.code, 0, `edgemail ${args.join(" ")}: ${r.stderr}`);
        assert.match(r.stdout, usage, `edgemail ${args.join(" ")}`);
      }),
    );
  });

  it("finds the local stack's edge and token in .edgemail/local.json when none are given", async () => {
    const dir = await mkdtemp(join(tmpdir(), "edgemail-cli-"));
    try {
      await writeFile(join(dir, "local.json"), JSON.stringify({ edgeUrl: stack.edgeUrl, adminToken: stack.secrets.adminToken }));
      assert.match(await ok(["domain", "list"], { EDGEMAIL_DATA: dir }), /^edgemail\.test\s/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("colours only on a terminal without NO_COLOR, and asks before removing a user only there", { skip: !hasScript && "util-linux `script` is not installed" }, async () => {
    const coloured = await onTerminal(["domain", "list"], env);
    assert.equal(coloured.code, 0, coloured.stdout);
    assert.match(coloured.stdout, ANSI);
    assert.doesNotMatch((await onTerminal(["domain", "list"], { ...env, NO_COLOR: "1" })).stdout, ANSI);
    assert.doesNotMatch((await onTerminal(["domain", "list", "--json"], env)).stdout, ANSI);

    await ok(["domain", "add", "tty.example"], env);
    await ok(["user", "add", "kim@tty.example"], env);
    const kept = await onTerminal(["user", "remove", "kim@tty.example"], env, "n\n");
    assert.equal(kept.code, 1);
    assert.match(kept.stdout, /remove kim@tty\.example and all its mail\? \[y\/N\]/);
    assert.match(kept.stdout, /kept kim@tty\.example/);
    assert.ok((await json<{ accounts: Account[] }>(["user", "list"], env)).accounts.some((a) => a.address === "kim@tty.example"));
    const removed = await onTerminal(["user", "remove", "kim@tty.example"], env, "y\n");
    assert.equal(removed.code, 0, removed.stdout);
    assert.match(removed.stdout, /removed kim@tty\.example/);
    await ok(["domain", "remove", "tty.example"], env);
  });
});
