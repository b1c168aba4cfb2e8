// Moved to src/replica/token-server.ts (the upstream replica uses it); kept so existing imports work.
export * from '../../src/replica/token-server.ts';
