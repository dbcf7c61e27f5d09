/**
 * The `edgemail` CLI against the real local edge: a session in human and JSON form, and the
 * errors scripts depend on (wrong token, unreachable edge, bad arguments) with their exit codes.
 * It runs as a real process, as an operator runs it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { startTestStack } from "../support/stack.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
const CLI = fileURLToPath(new URL("../../cli/edgemail.ts", import.meta.url));

function edgemail(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env } }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === "number" ? code : 1, out: stdout + stderr });
    });
  });
}

describe("edgemail CLI", () => {
  let stack: Stack;
  let env: Record<string, string>;

  before(async () => {
    stack = await startTestStack();
    env = { EDGEMAIL_URL: stack.edgeUrl, EDGEMAIL_TOKEN: stack.secrets.adminToken };
  });
  after(async () => {
    await stack.cleanup();
  });

  it("adds and lists a domain and a user, shows DKIM records, in human and JSON form", async () => {
    assert.deepEqual(await edgemail(["domain", "add", "cli.example"], env), { code: 0, out: "added cli.example\n" });
    const list = await edgemail(["domain", "list"], env);
    assert.equal(list.code, 0);
    assert.match(list.out, /^DOMAIN\s+MTA-STS\n/);
    assert.match(list.out, /\ncli\.example\s+-\n/);
    const json = await edgemail(["domain", "list", "--json"], env);
    assert.ok((JSON.parse(json.out) as { name: string }[]).some((d) => d.name === "cli.example"));

    const user = await edgemail(["user", "add", "ann@cli.example"], env);
    assert.equal(user.code, 0);
    const password = /password: (\S+)/.exec(user.out)?.[1] ?? "";
    assert.ok(password.length >= 20, user.out);
    const auth = await fetch(`${stack.edgeUrl}/relay/v1/auth`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.secrets.relayKey}`, "content-type": "application/json" },
      body: JSON.stringify({ username: "ann@cli.example", password }),
    });
    assert.equal(auth.status, 200, "the printed password logs in");
    assert.match((await edgemail(["user", "list"], env)).out, /\bann@cli\.example\b/);

    const dkim = await edgemail(["dkim", "show", "cli.example"], env);
    assert.equal(dkim.code, 0);
    assert.match(dkim.out, /^s\d{8}r\._domainkey\.cli\.example\. IN TXT "v=DKIM1; k=rsa; p=/m);
    assert.match(dkim.out, /^s\d{8}e\._domainkey\.cli\.example\. IN TXT "v=DKIM1; k=ed25519; p=/m);
    assert.equal((JSON.parse((await edgemail(["dkim", "show", "cli.example", "--json"], env)).out) as { keys: unknown[] }).keys.length, 2);
  });

  it("errors: wrong token 4, unreachable edge 3, refused request 5, bad arguments 2, each with a clear message", async () => {
    const wrong = await edgemail(["domain", "list"], { ...env, EDGEMAIL_TOKEN: "not-the-token" });
    assert.equal(wrong.code, 4);
    assert.match(wrong.out, /refused the admin token/);
    const down = await edgemail(["domain", "list"], { EDGEMAIL_URL: "http://127.0.0.1:9", EDGEMAIL_TOKEN: "x" });
    assert.equal(down.code, 3);
    assert.match(down.out, /unreachable/);
    const dup = await edgemail(["domain", "add", "edgemail.test"], env);
    assert.equal(dup.code, 5);
    assert.match(dup.out, /POST \/domains: /);
    assert.equal((await edgemail(["domain", "add"], env)).code, 2);
    assert.equal((await edgemail(["frobnicate"], env)).code, 2);
    const help = await edgemail(["user", "--help"], env);
    assert.equal(help.code, 0);
    assert.match(help.out, /^usage: edgemail user add/);
  });
});
