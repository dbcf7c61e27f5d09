/**
 * `edgemail queue …`: the outbound queue as Postfix operators know it (`mailq`, `postqueue -i`,
 * `postsuper -d`): jobs are per destination domain, each with its recipients' states.
 *
 * Callers may rely on: `list` shows pending jobs unless --all; `retry` makes a job due now and
 * `delete` drops its pending recipients without a bounce to the sender; both are refused by the
 * edge (exit 5) while a relay is delivering the job. Under --json each command prints the
 * edge's answer, `delete` a `{ id, deleted }` object.
 */
import type { QueuedJob, QueuedJobList } from "../../common/contract.ts";
import { seg } from "../admin-client.ts";
import { parseCommand } from "../args.ts";
import type { CommandGroup } from "../command.ts";
import { emit, fields, formatBytes, formatTime, paint, table, type Style } from "../output.ts";

type JobState = "delivering" | "queued" | "deferred" | "done";

function jobState(job: QueuedJob, now: number): JobState {
  if (job.leaseExpiresAt !== null && job.leaseExpiresAt > now) return "delivering";
  if (job.nextAttemptAt === null) return "done";
  return job.attempts === 0 ? "queued" : "deferred";
}

const STATE_STYLE: Record<string, Style> = {
  delivering: "cyan",
  queued: "bold",
  deferred: "yellow",
  done: "dim",
  delivered: "green",
  failed: "red",
  bounced: "red",
};

const recipientsCell = (job: QueuedJob) => job.recipients[0]!.recipient + (job.recipients.length > 1 ? ` +${job.recipients.length - 1}` : "");

export const queueGroup: CommandGroup = {
  summary: "the outbound queue: list, show, retry, delete",
  commands: {
    list: {
      usage: "usage: edgemail queue list [--all] [--domain d]\n  pending jobs (newest first, at most 500); --all adds finished ones",
      async run(ctx, args) {
        const { values } = parseCommand(args, { all: { type: "boolean" }, domain: { type: "string" } }, { min: 0, max: 0, names: "" });
        const query = new URLSearchParams({ state: values.all ? "all" : "pending", ...(values.domain ? { domain: values.domain } : {}) });
        const body = await (await ctx.client()).call<QueuedJobList>("GET", `/queue?${query}`);
        const now = Date.now();
        emit(ctx, body, () =>
          table(
            ["ID", "DOMAIN", "FROM", "RECIPIENTS", "SIZE", "TRIES", "STATE", "NEXT ATTEMPT"],
            body.jobs.map((j) => {
              const state = jobState(j, now);
              return [
                j.id,
                j.domain,
                j.mailFrom || "<>",
                j.recipients.length ? recipientsCell(j) : "-",
                formatBytes(j.size),
                String(j.attempts),
                paint(ctx.color, STATE_STYLE[state]!, state),
                paint(ctx.color, "dim", formatTime(j.nextAttemptAt)),
              ];
            }),
            { right: [4, 5], color: ctx.color },
          ),
        );
        return 0;
      },
    },
    show: {
      usage: "usage: edgemail queue show <id>\n  the job and each recipient's state and last result",
      async run(ctx, args) {
        const { positionals } = parseCommand(args, {}, { min: 1, max: 1, names: "a job id" });
        const job = await (await ctx.client()).call<QueuedJob>("GET", `/queue/${seg(positionals[0]!)}`);
        emit(ctx, job, () => describe(job, ctx.color));
        return 0;
      },
    },
    retry: {
      usage: "usage: edgemail queue retry <id>\n  makes the job's pending recipients due now (postqueue -i)",
      async run(ctx, args) {
        const { positionals } = parseCommand(args, {}, { min: 1, max: 1, names: "a job id" });
        const job = await (await ctx.client()).call<QueuedJob>("POST", `/queue/${seg(positionals[0]!)}/retry`);
        emit(ctx, job, () => `${job.id} is due now (next attempt ${formatTime(job.nextAttemptAt)})`);
        return 0;
      },
    },
    delete: {
      usage: "usage: edgemail queue delete <id>\n  drops the job's pending recipients without a bounce to the sender (postsuper -d)",
      async run(ctx, args) {
        const { positionals } = parseCommand(args, {}, { min: 1, max: 1, names: "a job id" });
        const id = positionals[0]!;
        await (await ctx.client()).call("DELETE", `/queue/${seg(id)}`);
        emit(ctx, { id, deleted: true }, () => `deleted ${id}`);
        return 0;
      },
    },
  },
};

function describe(job: QueuedJob, color: boolean): string {
  const state = jobState(job, Date.now());
  const head = fields(
    [
      ["id", job.id],
      ["state", paint(color, STATE_STYLE[state]!, state)],
      ["domain", job.domain],
      ["from", job.mailFrom || "<>"],
      ["account", job.account ?? "- (forwarded mail or a bounce)"],
      ["size", formatBytes(job.size)],
      ["attempts", String(job.attempts)],
      ["queued", formatTime(job.createdAt)],
      ["next attempt", formatTime(job.nextAttemptAt)],
      ["lease", job.leaseExpiresAt === null ? "-" : `${job.relayId ?? "?"} until ${formatTime(job.leaseExpiresAt)}`],
    ],
    color,
  );
  const rows = job.recipients.map((r) => {
    const last = r.lastResult;
    const result = last
      ? [last.smtp ? `${last.smtp.code}${last.smtp.enhanced ? ` ${last.smtp.enhanced}` : ""} ${last.smtp.message}` : last.outcome, last.mx ? `(${last.mx})` : "", last.detail ?? ""]
          .filter((s) => s !== "")
          .join(" ")
      : "-";
    return [r.recipient, paint(color, STATE_STYLE[r.state] ?? "bold", r.state), String(r.attempts), result];
  });
  return `${head}\n\n${table(["RECIPIENT", "STATE", "TRIES", "LAST RESULT"], rows, { right: [2], color })}`;
}
