// The control planes of an inventory with their SSH hosts (strict host keys, opened lazily), for the one-shot
// commands that work on them (certs check, etcd snapshot).
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Inventory, InventoryHost } from '../config/inventory.ts';
import { loadInventory } from '../config/inputs.ts';
import { UserError } from '../errors.ts';
import { connectInventory, type HostSet } from '../hosts/connect.ts';
import type { CommandContext } from './program.ts';

export interface ControlPlanes {
  inventoryPath: string;
  inventory: Inventory;
  /** In inventory order. */
  controlPlanes: InventoryHost[];
  hosts: HostSet;
}

/** Loads the inventory and connects its hosts; refuses an inventory without control planes, saying why they matter. */
export async function openControlPlanes(ctx: CommandContext, inventoryFlag: string, why: string): Promise<ControlPlanes> {
  const inventoryPath = resolve(ctx.cwd, inventoryFlag);
  const homeDir = ctx.env.HOME ?? homedir();
  const inventory = await loadInventory(inventoryPath, { homeDir });
  const controlPlanes = inventory.hosts.filter((h) => h.roles.includes('control-plane'));
  if (controlPlanes.length === 0) throw new UserError(`${inventoryFlag}: no host has role control-plane`, { hint: why });
  const hosts = connectInventory(inventory, { homeDir, baseDir: dirname(inventoryPath), ...(ctx.env.SSH_AUTH_SOCK ? { agentSocket: ctx.env.SSH_AUTH_SOCK } : {}) });
  return { inventoryPath, inventory, controlPlanes, hosts };
}
