/**
 * The CLI's client of the admin API (`/admin/v1`, Bearer ADMIN_TOKEN). Every failure is a
 * {@link CliError} carrying the exit code scripts can rely on:
 *   2 usage (bad argument), 3 the edge could not be reached, 4 the token was refused,
 *   5 the edge refused the request (4xx, with its reason), 1 anything else (5xx, a broken answer).
 *
 * Callers may rely on: `call` resolves with the parsed JSON body (undefined for 204) only for a
 * 2xx answer; path segments given through {@link seg} are URL-encoded, so an address or a
 * domain name is safe in a path.
 */
import { ADMIN_API_PREFIX } from "../common/contract.ts";

export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: number;
  constructor(exitCode: number, message: string) {
    super(message);
    this.exitCode = exitCode;
  }
}

export const usage = (message: string) => new CliError(2, message);

/** One path segment, encoded: `/accounts/${seg("ann@example.org")}`. */
export const seg = (value: string) => encodeURIComponent(value);

export class AdminClient {
  readonly #base: string;
  readonly #token: string;

  constructor(url: string, token: string) {
    this.#base = url.replace(/\/+$/, "") + ADMIN_API_PREFIX;
    this.#token = token;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.#base + path, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      const reason = err instanceof Error && err.name === "TimeoutError" ? "timed out" : "is unreachable";
      throw new CliError(3, `the edge at ${this.#base.slice(0, -ADMIN_API_PREFIX.length)} ${reason}`);
    }
    if (response.status === 401) throw new CliError(4, "the edge refused the admin token (401): check --token or EDGEMAIL_TOKEN");
    const text = await response.text();
    const shown = path.split("?")[0];
    if (!response.ok) throw new CliError(response.status < 500 ? 5 : 1, `${method} ${shown}: ${reasonOf(text) ?? `HTTP ${response.status}`}`);
    if (text === "") return undefined as T;
    const parsed = safeJson(text);
    if (parsed === undefined) throw new CliError(1, `${method} ${shown}: the edge answered ${response.status} with a body that is not JSON`);
    return parsed as T;
  }
}

/**
 * The reason from an ApiError body. Read leniently (any string `error.message`), so an error code
 * newer than this CLI still shows its reason instead of a bare status.
 */
function reasonOf(text: string): string | undefined {
  const body = safeJson(text) as { error?: { message?: unknown } } | undefined;
  const message = body?.error?.message;
  return typeof message === "string" && message !== "" ? message : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
