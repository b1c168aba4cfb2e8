// Moved to src/bundle/sources/machine-apt-sources.ts (the demo uses it); kept so existing imports work.
export * from '../../src/bundle/sources/machine-apt-sources.ts';
