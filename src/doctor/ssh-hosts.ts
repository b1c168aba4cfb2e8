// Opens an SSH Host per inventory target (strict host keys unless told otherwise); failures become per-host Errors.
import type { Inventory } from '../config/inventory.ts';
import { InternalError } from '../errors.ts';
import type { Host } from '../hosts/host.ts';
import type { DoctorTarget } from './doctor.ts';

export interface OpenOptions {
  hostKeyPolicy: 'strict' | 'accept-new';
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
}

/** Connect to every target of `inventory`; placeholder until src/hosts/connect.ts lands from the lab branch. */
export async function openInventoryHosts(_inventory: Inventory, targets: readonly DoctorTarget[], _options: OpenOptions): Promise<Map<string, Host | Error>> {
  return new Map(targets.map((t) => [t.name, new InternalError('SSH hosts are not wired yet')]));
}
