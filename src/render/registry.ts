// The local image registry: CNCF distribution run as a systemd service from the binary in the bundle (not as a
// container image, so it works before any runtime can pull). Filesystem storage, deletes disabled, TLS with
// ferry's CA-signed certificate, optional htpasswd. Keys per distribution's docs/configuration.md.
import { stringify } from 'yaml';
import { UserError } from '../errors.ts';
import { renderedFile, type RenderedFile } from './file.ts';
import { renderUnit } from './systemd.ts';

export interface RegistryInput {
  /** Address and port to listen on, e.g. 10.20.0.11:5000 or 0.0.0.0:5000. */
  listen: string;
  /** Storage directory on the node. */
  rootDirectory?: string;
  tls: { certificate: string; key: string };
  /** htpasswd file (bcrypt); when set, every request needs credentials. */
  htpasswdPath?: string;
  /** The distribution binary from the bundle (`registry` for distribution 3, `docker-registry` on Debian). */
  binaryPath?: string;
  configPath?: string;
}

export const REGISTRY_CONFIG_PATH = '/etc/ferry/registry/config.yml';
export const REGISTRY_ROOT = '/var/lib/ferry/registry';
export const REGISTRY_UNIT = 'ferry-registry.service';

const absolute = /^\/[A-Za-z0-9_.\/-]+$/;

/** The registry's config as data (distribution config version 0.1). */
export function registryConfigObject(input: RegistryInput): Record<string, unknown> {
  if (!/^[0-9a-fA-F.:\[\]]+:\d{1,5}$/.test(input.listen)) throw new UserError(`registry listen must be ADDRESS:PORT, got ${input.listen}`);
  for (const p of [input.rootDirectory ?? REGISTRY_ROOT, input.tls.certificate, input.tls.key, input.htpasswdPath ?? '/x'])
    if (!absolute.test(p)) throw new UserError(`registry paths must be absolute, got ${JSON.stringify(p)}`);
  return {
    version: 0.1,
    log: { level: 'info', formatter: 'text' },
    storage: {
      filesystem: { rootdirectory: input.rootDirectory ?? REGISTRY_ROOT },
      // Nothing may remove an image the cluster depends on: the bundle is the only source in an air gap.
      delete: { enabled: false },
      cache: { blobdescriptor: 'inmemory' },
      maintenance: { uploadpurging: { enabled: true, age: '168h', interval: '24h', dryrun: false } },
    },
    http: {
      addr: input.listen,
      tls: { certificate: input.tls.certificate, key: input.tls.key, minimumtls: 'tls1.2' },
      headers: { 'X-Content-Type-Options': ['nosniff'] },
    },
    ...(input.htpasswdPath ? { auth: { htpasswd: { realm: 'ferry-registry', path: input.htpasswdPath } } } : {}),
    health: { storagedriver: { enabled: true, interval: '10s', threshold: 3 } },
  };
}

/** config.yml and the systemd unit that runs the registry on a control-plane (or registry) node. */
export function renderRegistry(input: RegistryInput): RenderedFile[] {
  const configPath = input.configPath ?? REGISTRY_CONFIG_PATH;
  const binary = input.binaryPath ?? '/usr/local/bin/registry';
  if (!absolute.test(configPath) || !absolute.test(binary)) throw new UserError('registry binary and config paths must be absolute');
  const root = input.rootDirectory ?? REGISTRY_ROOT;
  const config = renderedFile(configPath, `# Written by ferry: local registry (CNCF distribution).\n${stringify(registryConfigObject(input))}`);
  const unit = renderUnit(
    REGISTRY_UNIT,
    {
      Unit: {
        Description: 'ferry local image registry (CNCF distribution)',
        Documentation: 'https://distribution.github.io/distribution/about/configuration/',
        After: 'network-online.target',
        Wants: 'network-online.target',
      },
      Service: {
        ExecStart: `${binary} serve ${configPath}`,
        Restart: 'always',
        RestartSec: 2,
        LimitNOFILE: 65536,
        NoNewPrivileges: true,
        PrivateTmp: true,
        ProtectHome: true,
        ProtectSystem: 'strict',
        ReadWritePaths: root,
      },
      Install: { WantedBy: 'multi-user.target' },
    },
    'Written by ferry.',
  );
  return [config, unit];
}
