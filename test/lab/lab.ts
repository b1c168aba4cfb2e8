// Moved to src/lab/lab.ts (ferry demo boots lab nodes); kept so existing imports work.
export * from '../../src/lab/lab.ts';
