/**
 * The relay's share of the outbound queue: lease due jobs from the edge, deliver them, report.
 *
 * Callers may rely on: at most `concurrency` jobs are in flight; a job is reported only while
 * its lease holds (a 409 means another relay has it now, and this relay forgets it); a relay
 * that dies mid-delivery loses nothing — its leases expire and any relay leases the jobs again.
 * The one duplicate this cannot rule out is SMTP's own: a remote MX that stored the message but
 * whose 250 never arrived (RFC 5321 §6.1 accepts that risk); the job is then delivered again.
 * `kick()` starts a lease round at once (after a submission queued remote recipients); a
 * "reported" event follows every report the edge accepted (for metrics and tests).
 */
import { EventEmitter } from "node:events";
import type { DeliveryReport, OutboundJob } from "../../common/contract.ts";
import type { EdgeClient } from "../edge/client.ts";
import { hostAttemptBudgetMs } from "../config.ts";
import { EdgeError } from "../edge/errors.ts";
import { deliverJob, type DeliveryContext } from "./deliver-job.ts";

export interface OutboundWorkerOptions {
  relayId: string;
  concurrency: number;
  leaseSeconds: number;
  pollIntervalMs: number;
}

export class OutboundWorker extends EventEmitter<{ reported: [job: OutboundJob, report: DeliveryReport] }> {
  readonly #edge: EdgeClient;
  readonly #ctx: DeliveryContext;
  readonly #options: OutboundWorkerOptions;
  readonly #inFlight = new Set<Promise<void>>();
  #running = false;
  #wake: (() => void) | null = null;
  #kicked = false;
  #loop: Promise<void> | null = null;
  /** Delivered, deferred or failed recipients reported so far: for tests and benchmarks. */
  readonly stats = { jobs: 0, reported: 0, lostLeases: 0 };

  constructor(ctx: DeliveryContext, options: OutboundWorkerOptions) {
    super();
    this.#edge = ctx.edge;
    this.#ctx = ctx;
    this.#options = options;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  kick(): void {
    this.#kicked = true;
    this.#wake?.();
  }

  /** Stops leasing and waits for the deliveries in flight (their reports included). */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
    this.#ctx.connections?.closeAll();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const free = this.#options.concurrency - this.#inFlight.size;
      let leased = 0;
      if (free > 0) {
        this.#kicked = false;
        try {
          const { jobs } = await this.#edge.leaseOutbound({
            relayId: this.#options.relayId,
            max: free,
            leaseSeconds: this.#options.leaseSeconds,
          });
          leased = jobs.length;
          // Our own clock bounds the report retries: the edge's may be shifted (tests) or skewed.
          const expiresAt = Date.now() + this.#options.leaseSeconds * 1000;
          for (const job of jobs) this.#track(job, expiresAt);
        } catch (err) {
          this.#ctx.log(`delivery: lease failed: ${(err as Error).message}`);
        }
      }
      // A full batch suggests more are due; otherwise wait for a kick, a finished job or the
      // poll interval. With every slot busy only a finished job (which wakes us) frees one.
      if (free > 0 && (this.#kicked || (leased > 0 && leased === free))) continue;
      await this.#sleep(this.#options.pollIntervalMs);
    }
  }

  #track(job: OutboundJob, expiresAt: number): void {
    this.stats.jobs++;
    const task = this.#deliver(job, expiresAt).finally(() => {
      this.#inFlight.delete(task);
      this.#wake?.();
    });
    this.#inFlight.add(task);
  }

  async #deliver(job: OutboundJob, expiresAt: number): Promise<void> {
    let report;
    try {
      const attemptBudget = hostAttemptBudgetMs(this.#ctx);
      report = await deliverJob(job, this.#ctx, expiresAt - attemptBudget);
    } catch (err) {
      // The message could not even be read: leave the job to its lease expiry.
      if (isLostLease(err)) this.stats.lostLeases++;
      this.#ctx.log(`delivery: job ${job.id} not attempted: ${(err as Error).message}`);
      return;
    }
    // A delivered message whose report is lost would be sent again after the lease expires,
    // so the report is retried for as long as the lease lasts.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#edge.reportDelivery(job.id, report);
        this.stats.reported += report.results.length;
        this.emit("reported", job, report);
        return;
      } catch (err) {
        if (isLostLease(err)) {
          this.stats.lostLeases++;
          this.#ctx.log(`delivery: job ${job.id}: lease lost before the report`);
          return;
        }
        const wait = Math.min(30_000, 500 * 2 ** attempt);
        if (Date.now() + wait >= expiresAt) {
          this.#ctx.log(`delivery: job ${job.id}: report failed, the job will be retried: ${(err as Error).message}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.#wake = null;
        resolve();
      }
      this.#wake = done;
    });
  }
}

function isLostLease(err: unknown): boolean {
  return err instanceof EdgeError && (err.code === "conflict" || err.code === "not_found");
}

