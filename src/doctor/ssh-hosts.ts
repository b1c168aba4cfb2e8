// Opens the inventory's hosts over SSH (src/hosts/connect.ts: strict host keys unless told otherwise) for doctor.
import { dirname } from 'node:path';
import type { Inventory } from '../config/inventory.ts';
import { connectInventory } from '../hosts/connect.ts';
import type { HostKeyPolicy } from '../hosts/host-key-policy.ts';
import type { OpenedHosts } from './doctor.ts';

export interface OpenOptions {
  /** Path of the inventory file: its relative paths (identity, knownHosts) are relative to it. */
  inventoryPath: string;
  hostKeyPolicy: HostKeyPolicy;
  homeDir: string;
  agentSocket: string | undefined;
}

/** SSH hosts for every inventory host; connections open on first use, so an unreachable host fails its first exec. */
export function openInventoryHosts(inventory: Inventory, options: OpenOptions): OpenedHosts {
  const set = connectInventory(inventory, {
    homeDir: options.homeDir,
    baseDir: dirname(options.inventoryPath),
    hostKeyPolicy: options.hostKeyPolicy,
    ...(options.agentSocket ? { agentSocket: options.agentSocket } : {}),
  });
  return { hosts: set.hosts, close: () => set.close() };
}
