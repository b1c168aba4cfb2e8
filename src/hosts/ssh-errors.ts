// Turn what ssh2 and the socket layer report into a message a person can act on. Pure: error shape in, text out.

/** The parts of an ssh2 / net error that matter: `level` is set by ssh2, `code` by the socket layer. */
export interface SshErrorShape {
  message: string;
  level?: string;
  code?: string;
}

export interface SshErrorContext {
  address: string;
  port: number;
  user: string;
  /** Authentication methods offered, e.g. `publickey (/root/.ssh/id_ed25519)`, `agent ($SSH_AUTH_SOCK)`. */
  methods: readonly string[];
  timeoutMs: number;
  /** Set when the connection went through a jump host. */
  via?: string;
}

/** A one-line reason and what to do next for a failed SSH connection. */
export function describeSshError(err: SshErrorShape, ctx: SshErrorContext): { message: string; hint: string } {
  const where = `${ctx.address}:${ctx.port}${ctx.via ? ` via ${ctx.via}` : ''}`;
  if (err.level === 'client-authentication')
    return {
      message: `authentication failed for ${ctx.user}@${where} (tried: ${ctx.methods.length ? ctx.methods.join(', ') : 'no method'})`,
      hint: `check that the public key is in ~${ctx.user}/.ssh/authorized_keys on the host, or set ssh.identity / load the key into ssh-agent`,
    };
  if (err.level === 'client-timeout' || err.code === 'ETIMEDOUT')
    return {
      message: `timed out after ${ctx.timeoutMs} ms connecting to ${where}`,
      hint: 'check that the host is up and that no firewall drops port ' + ctx.port + ' (ssh.connectTimeoutMs raises the limit)',
    };
  switch (err.code) {
    case 'ECONNREFUSED':
      return { message: `connection refused at ${where}`, hint: `the host is up but nothing listens on port ${ctx.port}: is sshd running?` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
      return { message: `host unreachable at ${where} (${err.code})`, hint: 'the host is down or there is no route to it: check power, cabling and the address in the inventory' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { message: `cannot resolve ${ctx.address} (DNS: ${err.code})`, hint: 'use an IP address in the inventory or fix name resolution on this machine' };
    case 'ECONNRESET':
      return { message: `connection reset by ${where}`, hint: 'sshd closed the connection: check MaxStartups, TCP wrappers, or fail2ban on the host' };
    default:
      return { message: `cannot connect to ${where}: ${err.message}`, hint: 'run `ssh -v` to the same address for details' };
  }
}
