// Test helper, run as its own process by lab.lab.test.ts: start a one-node lab, print where it is, and hold it until
// signalled (or for at most 120 s), so the test can kill this process and check what is left behind.
import { startLab } from '../../src/lab/lab.ts';

const lab = await startLab({ nodes: 1 });
process.stdout.write(`${JSON.stringify({ prefix: lab.prefix, stateDir: lab.stateDir, pid: process.pid })}\n`);
setTimeout(() => {
  void lab.stop().then(() => process.exit(0));
}, 120_000);
