// Entry of the single executable: the same main, started without top-level await (the bundle is CommonJS).
import { main } from '../cli/entry.ts';

void main();
