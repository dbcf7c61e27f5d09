#!/usr/bin/env node
/**
 * `edgemail`: the operator's command line for the admin API of a local or deployed edge.
 *
 *   edgemail <group> <command> [args]    domain, user, alias, dkim, queue, reports
 *   edgemail dns <domain>                the DNS records to publish
 *   edgemail doctor <domain>             checks DNS, MTA-STS, TLS and reverse DNS as the world sees them
 *
 * This file only dispatches: it takes the global flags (--json, --url, --token, --help/-h) from
 * wherever they appear, finds the command and hands it the rest, which the command parses itself.
 * The edge and token come from --url/--token, else EDGEMAIL_URL/EDGEMAIL_TOKEN, else the local
 * stack's `.edgemail/local.json` (what `npm start` wrote; EDGEMAIL_DATA names another folder).
 *
 * Callers (scripts) may rely on: under --json stdout carries one JSON document and nothing else;
 * every error goes to stderr as `edgemail: <reason>`; exit codes 0 ok, 1 failed, 2 bad arguments
 * or unknown command (with the usage), 3 edge unreachable, 4 token refused, 5 request refused by
 * the edge (with its reason); `--help` anywhere prints the most specific usage and exits 0.
 * Colour only on a terminal, without NO_COLOR, and never with --json.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { AdminClient, CliError, usage } from "./admin-client.ts";
import type { CommandContext, CommandGroup, CommandSpec } from "./command.ts";
import { aliasGroup } from "./commands/alias.ts";
import { dkimGroup } from "./commands/dkim.ts";
import { domainGroup } from "./commands/domain.ts";
import { queueGroup } from "./commands/queue.ts";
import { reportsGroup } from "./commands/reports.ts";
import { userGroup } from "./commands/user.ts";

const GROUPS: Record<string, CommandGroup> = {
  domain: domainGroup,
  user: userGroup,
  alias: aliasGroup,
  dkim: dkimGroup,
  queue: queueGroup,
  reports: reportsGroup,
};

/**
 * Commands without a group; their options are theirs (cli/commands/dns.ts, doctor.ts). Loaded
 * when run: the doctor's resolvers and TLS probes are no reason for `user add` to load slower or
 * to fail.
 */
const TOP: Record<string, CommandSpec & { summary: string }> = {
  dns: {
    summary: "the DNS records the domain must publish, as a zone-file snippet",
    usage: [
      "usage: edgemail dns <domain> [--tlsa cert.pem] [--tlsa-from host:port]",
      "  every record the domain needs (MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, SRV, web hosts) as zone-file lines",
      "  --tlsa, --tlsa-from  add TLSA 3 1 1 for the MX from a certificate file or a live TLS port",
    ].join("\n"),
    run: async (ctx, args) => (await import("./commands/dns.ts")).dnsCommand(ctx, args),
  },
  doctor: {
    summary: "checks DNS, MTA-STS, TLS and reverse DNS as the world sees them",
    usage: [
      "usage: edgemail doctor <domain> [--resolver ip[:port]]… [--ca file]… [--port smtp=25,submissions=465,...] [--timeout 5s]",
      "  one line per check, ✓ or ✗ with the fix; exit 1 when any check fails",
    ].join("\n"),
    run: async (ctx, args) => (await import("./commands/doctor.ts")).doctorCommand(ctx, args),
  },
};

const GLOBAL_OPTIONS = [
  "global options (anywhere on the line):",
  "  --json           print the API's JSON on stdout, nothing else",
  "  --url, --token   the edge and its admin token (else EDGEMAIL_URL, EDGEMAIL_TOKEN, else .edgemail/local.json)",
  "  -h, --help       usage of a group or command",
  "exit codes: 0 ok, 1 failed, 2 bad arguments, 3 edge unreachable, 4 token refused, 5 request refused",
].join("\n");

function topUsage(): string {
  const rows: [string, string][] = [
    ...Object.entries(GROUPS).map(([name, g]): [string, string] => [`${name} <command>`, g.summary]),
    ...Object.entries(TOP).map(([name, c]): [string, string] => [`${name} <domain>`, c.summary]),
  ];
  const w = Math.max(...rows.map(([a]) => a.length));
  return [
    "usage: edgemail <group> <command> [args] [--json] [--url URL] [--token TOKEN]",
    "",
    ...rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`),
    "",
    "edgemail <group> --help lists its commands",
    GLOBAL_OPTIONS,
  ].join("\n");
}

function groupUsage(name: string, group: CommandGroup): string {
  const lines = Object.values(group.commands).map((c) => c.usage.split("\n")[0]!.replace(/^usage: /, ""));
  return [...lines.map((l, i) => (i === 0 ? `usage: ${l}` : `       ${l}`)), "", `edgemail ${name} <command> --help for details`].join("\n");
}

interface Globals {
  json: boolean;
  help: boolean;
  url?: string;
  token?: string;
}

/** Takes the global flags out of argv; everything after `--` is left to the command. */
function takeGlobals(argv: string[]): { globals: Globals; rest: string[] } {
  const globals: Globals = { json: false, help: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = /^--(url|token)=(.*)$/s.exec(arg);
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    } else if (arg === "--json") globals.json = true;
    else if (arg === "--help" || arg === "-h") globals.help = true;
    else if (eq) globals[eq[1] as "url" | "token"] = eq[2]!;
    else if (arg === "--url" || arg === "--token") {
      const value = argv[++i];
      if (value === undefined) throw usage(`${arg} needs a value`);
      globals[arg.slice(2) as "url" | "token"] = value;
    } else rest.push(arg);
  }
  return { globals, rest };
}

export interface Io {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
  stdoutIsTTY: boolean;
  /** Set when stdin is a terminal: asks a yes/no question. */
  confirm?: (question: string) => Promise<boolean>;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const fail = (code: number, message: string, usageText?: string) => {
    io.err(`edgemail: ${message}`);
    if (usageText) io.err(usageText);
    return code;
  };
  let globals: Globals;
  let rest: string[];
  try {
    ({ globals, rest } = takeGlobals(argv));
  } catch (err) {
    return fail(2, (err as Error).message, topUsage());
  }

  // Find the command: a top-level one, or <group> <command>.
  const [first, second] = rest;
  let spec: CommandSpec;
  let args: string[];
  if (first === undefined) {
    if (globals.help) return (io.out(topUsage()), 0);
    return fail(2, "no command given", topUsage());
  } else if (first in TOP) {
    spec = TOP[first]!;
    args = rest.slice(1);
  } else if (first in GROUPS) {
    const group = GROUPS[first]!;
    if (second === undefined) {
      if (globals.help) return (io.out(groupUsage(first, group)), 0);
      return fail(2, `no ${first} command given`, groupUsage(first, group));
    }
    if (!Object.hasOwn(group.commands, second)) return fail(2, `unknown command "${first} ${second}"`, groupUsage(first, group));
    spec = group.commands[second]!;
    args = rest.slice(2);
  } else {
    return fail(2, first.startsWith("-") ? `unknown option "${first}"` : `unknown command "${first}"`, topUsage());
  }
  if (globals.help) return (io.out(spec.usage), 0);

  let client: Promise<AdminClient> | undefined;
  const ctx: CommandContext = {
    client: () => (client ??= connect(globals.url, globals.token, io.env)),
    json: globals.json,
    color: io.stdoutIsTTY && !io.env.NO_COLOR && !globals.json,
    out: io.out,
    env: io.env,
    ...(io.confirm ? { confirm: io.confirm } : {}),
  };
  try {
    return await spec.run(ctx, args);
  } catch (err) {
    if (err instanceof CliError) return fail(err.exitCode, err.message, err.exitCode === 2 ? spec.usage : undefined);
    return fail(1, (err as Error).message);
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

async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

if (import.meta.main) {
  process.exitCode = await run(process.argv.slice(2), {
    env: process.env,
    out: (line) => process.stdout.write(line + "\n"),
    err: (line) => process.stderr.write(line + "\n"),
    stdoutIsTTY: process.stdout.isTTY === true,
    ...(process.stdin.isTTY ? { confirm: askOnTerminal } : {}),
  });
}
