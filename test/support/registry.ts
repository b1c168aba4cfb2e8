// Moved to src/replica/registry-process.ts (the upstream replica uses it); kept so existing imports work.
export * from '../../src/replica/registry-process.ts';
