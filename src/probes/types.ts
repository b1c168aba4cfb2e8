// Results of the cross-node probes (IP-in-IP, UDP encapsulation port, TCP ports, clocks), as the checks read them.
import type { PairCoverage } from './pairs.ts';

/** How one direction of a packet probe ended: heard by the receiver, never heard, refused by the sender's own stack, or unknown. */
export type PathOutcome = 'ok' | 'dropped' | 'send-error' | 'unknown';

export interface PathResult {
  from: string;
  to: string;
  outcome: PathOutcome;
  /** Why unknown or send-error, e.g. "no python on db-2". */
  detail?: string;
}

/** TCP connect outcome: our listener answered, refused, timed out, another program answered, or untested. */
export type TcpOutcome = 'ok' | 'refused' | 'timeout' | 'other-service' | 'port-in-use' | 'unknown';

export interface TcpResult {
  from: string;
  to: string;
  port: number;
  outcome: TcpOutcome;
  detail?: string;
}

export interface ClockSample {
  host: string;
  /** Node clock minus admin clock, corrected for half the round trip. */
  offsetMs: number;
  /** Half the round trip: the offset is right within this. */
  uncertaintyMs: number;
}

export interface ProbeResults {
  ipip: PathResult[];
  udp: { port: number; paths: PathResult[] };
  tcp: TcpResult[];
  clock: ClockSample[];
  /** Which pairs were probed and exactly which were not (absent in reports written before pair selection). */
  pairs?: PairCoverage;
  /** Hosts whose probe agent could not run, with why. */
  agentErrors: { host: string; error: string }[];
}
