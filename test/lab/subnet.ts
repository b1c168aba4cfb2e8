// Moved to src/lab/subnet.ts (ferry demo boots lab nodes); kept so existing imports work.
export * from '../../src/lab/subnet.ts';
