// Bounded retries with exponential backoff for registry traffic: 5xx, 429, dropped connections and torn
// streams are retried; everything else fails at once.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FerryError } from '../errors.ts';

export interface RetryPolicy {
  /** Total tries, first one included. */
  attempts: number;
  /** Delay before the second try; doubled for each one after. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 8000 };

/** Thrown inside a retried step to say "this may work next time"; `error` is what the caller sees if it never does. */
export class TransientError extends Error {
  readonly error: FerryError;
  constructor(error: FerryError) {
    super(error.message, { cause: error });
    this.error = error;
  }
}

/** Delay before try number `attempt` (1-based, the first retry is attempt 2). Pure. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 2));
}

/** Run `step` until it succeeds, throws a non-transient error, or the policy's tries are spent. */
export async function withRetry<T>(policy: RetryPolicy, step: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step(attempt);
    } catch (error) {
      if (!(error instanceof TransientError)) throw error;
      if (attempt >= policy.attempts || signal?.aborted) throw error.error;
      await sleep(backoffDelay(policy, attempt + 1), undefined, { signal });
    }
  }
}
