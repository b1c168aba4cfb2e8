// Test support: a converged re-run of an install, judged by ferry's own audit log (state dir's audit.jsonl).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { AuditRecord } from '../../../src/state/audit.ts';

/** The audit records ferry wrote in `stateDir`. */
export async function auditRecords(stateDir: string): Promise<AuditRecord[]> {
  return (await readFile(join(stateDir, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
}

/**
 * Runs `run` (an install over a converged cluster) and expects exit 0, zero mutating commands in the audit, and the
 * gpu-driver phase asking nvidia-smi (its check that the locked branch answers). Returns the run's milliseconds.
 */
export async function expectConvergedGpuRerun(stateDir: string, run: () => Promise<{ code: number; err: string; ms: number }>): Promise<number> {
  const start = (await auditRecords(stateDir)).length;
  const r = await run();
  expect(r.code, r.err).toBe(0);
  const records = (await auditRecords(stateDir)).slice(start);
  expect(records.filter((a) => !a.readOnly)).toEqual([]);
  expect(records.some((a) => a.phase === 'gpu-driver' && a.command.startsWith('nvidia-smi'))).toBe(true);
  return r.ms;
}
