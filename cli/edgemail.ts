#!/usr/bin/env node
/**
 * `edgemail`: the operator's command line for the admin API of a local or deployed edge.
 *
 *   edgemail domain add <name> | list | show <name>
 *   edgemail user add <address> [--password P] | list
 *   edgemail dkim show <domain>
 *
 * The edge and token come from --url/--token, else EDGEMAIL_URL/EDGEMAIL_TOKEN, else the local
 * stack's `.edgemail/local.json` (what `npm start` wrote). Human output by default (aligned
 * columns), `--json` for scripts; exit codes as cli/admin-client.ts lists them.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Account, DkimPublicKeys, Domain } from "../common/contract.ts";
import { AdminClient, CliError, usage } from "./admin-client.ts";

const HELP: Record<string, string> = {
  "": "usage: edgemail <domain|user|dkim> <command> [args] [--json] [--url URL] [--token TOKEN]\n  edgemail <group> --help for its commands",
  domain: "usage: edgemail domain add <name> | list | show <name>   [--json]",
  user: "usage: edgemail user add <address> [--password P] | list   [--json]\n  without --password a strong one is generated and printed once",
  dkim: "usage: edgemail dkim show <domain>   [--json]\n  prints the TXT records to publish for the domain's DKIM keys",
};

export async function run(argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        url: { type: "string" },
        token: { type: "string" },
        password: { type: "string" },
      },
    });
  } catch (err) {
    out(`edgemail: ${(err as Error).message}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [group = "", command, ...rest] = positionals;
  if (values.help || group === "" || !(group in HELP)) {
    out(HELP[group in HELP ? group : ""]!);
    return values.help ? 0 : 2;
  }
  try {
    const client = await connect(values.url, values.token, env);
    const print = (human: string, json: unknown) => out(values.json ? JSON.stringify(json, null, 2) : human);
    switch (`${group} ${command ?? ""}`) {
      case "domain add": {
        const domain = await client.call<Domain>("POST", "/domains", { name: need(rest[0], "a domain name") });
        print(`added ${domain.name}`, domain);
        return 0;
      }
      case "domain list": {
        const { domains } = await client.call<{ domains: Domain[] }>("GET", "/domains");
        print(table(["DOMAIN", "MTA-STS"], domains.map((d) => [d.name, d.mtaSts?.mode ?? "-"])), domains);
        return 0;
      }
      case "domain show": {
        const domain = await client.call<Domain & { settings?: unknown }>("GET", `/domains/${encodeURIComponent(need(rest[0], "a domain name"))}`);
        print(JSON.stringify(domain, null, 2), domain);
        return 0;
      }
      case "user add": {
        const address = need(rest[0], "an address");
        const password = values.password ?? randomBytes(18).toString("base64url");
        const account = await client.call<Account>("POST", "/accounts", { address, password });
        print(values.password ? `added ${account.address}` : `added ${account.address}\npassword: ${password}`, {
          ...account,
          ...(values.password ? {} : { password }),
        });
        return 0;
      }
      case "user list": {
        const { accounts } = await client.call<{ accounts: Account[] }>("GET", "/accounts");
        print(table(["ID", "ADDRESS"], accounts.map((a) => [String(a.id), a.address])), accounts);
        return 0;
      }
      case "dkim show": {
        const keys = await client.call<DkimPublicKeys>("GET", `/domains/${encodeURIComponent(need(rest[0], "a domain name"))}/dkim`);
        print(keys.keys.map((k) => `${k.dnsName}. IN TXT "${k.dnsValue}"`).join("\n"), keys);
        return 0;
      }
      default:
        throw usage(`unknown command "${group} ${command ?? ""}".\n${HELP[group]}`);
    }
  } catch (err) {
    if (err instanceof CliError) {
      out(`edgemail: ${err.message}`);
      return err.exitCode;
    }
    out(`edgemail: ${(err as Error).message}`);
    return 1;
  }
}

async function connect(url: string | undefined, token: string | undefined, env: NodeJS.ProcessEnv): Promise<AdminClient> {
  url ??= env.EDGEMAIL_URL;
  token ??= env.EDGEMAIL_TOKEN;
  if (!url || !token) {
    const local = await readLocalSettings(env.EDGEMAIL_DATA ?? ".edgemail");
    url ??= local?.edgeUrl;
    token ??= local?.adminToken;
  }
  if (!url || !token) throw usage("no edge given: use --url and --token (or EDGEMAIL_URL and EDGEMAIL_TOKEN)");
  return new AdminClient(url, token);
}

async function readLocalSettings(dir: string): Promise<{ edgeUrl?: string; adminToken?: string } | null> {
  try {
    return JSON.parse(await readFile(resolve(dir, "local.json"), "utf8")) as { edgeUrl?: string; adminToken?: string };
  } catch {
    return null;
  }
}

function need(value: string | undefined, what: string): string {
  if (!value) throw usage(`missing ${what}`);
  return value;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

if (import.meta.main) {
  process.exitCode = await run(process.argv.slice(2), process.env, (line) => console.log(line));
}
