// Process entry for `node bin/ferry.js`: run ferry on this process.
import { main } from './entry.ts';

await main();
