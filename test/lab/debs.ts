// Moved to src/lab/debs.ts (ferry demo boots lab nodes); kept so existing imports work.
export * from '../../src/lab/debs.ts';
