// iptables backend: which one the node's iptables speaks, its version, and rules left behind in the other one.
import type { Facts } from '../facts/types.ts';
import { compareLoose } from './version.ts';
import { hostFinding, type Finding, type NodeCheck } from './types.ts';

const ID = 'iptables-backend';

/** The backend the CNI should be told to use on this node: NFT unless only legacy rules exist. */
export function recommendedBackend(facts: Facts): 'NFT' | 'Legacy' {
  const { mode, legacyRules, nftRules } = facts.iptables;
  if (mode === 'legacy' && nftRules === 0) return 'Legacy';
  if (legacyRules > 0 && nftRules === 0 && mode !== 'nf_tables') return 'Legacy';
  return 'NFT';
}

function verdict(facts: Facts): Finding {
  const { version, mode, legacyRules, nftRules } = facts.iptables;
  const host = facts.host;
  const flush =
    'iptables-legacy-save > /root/legacy-rules.bak && for t in filter nat mangle raw; do iptables-legacy -t $t -F; iptables-legacy -t $t -X; done';
  if (legacyRules > 0 && nftRules > 0)
    return hostFinding(
      ID,
      host,
      'fail',
      `rules in both backends: ${legacyRules} in iptables-legacy, ${nftRules} in iptables-nft; kube-proxy and the CNI may program the wrong one`,
      `remove the stale backend's rules (usually legacy): ${flush}; then tell the CNI the backend (Calico: FELIX_IPTABLESBACKEND=NFT)`,
    );
  if (!version)
    return hostFinding(ID, host, 'warn', 'iptables is not installed', 'install iptables (nft variant) from the bundle repository before kube-proxy starts');
  if (mode === 'nf_tables' && compareLoose(version, '1.8.4') < 0)
    return hostFinding(
      ID,
      host,
      'fail',
      `iptables ${version} (nf_tables) is older than 1.8.4, whose nft backend has rule-ordering bugs kube-proxy trips over`,
      'upgrade iptables to >= 1.8.4 from the bundle repository',
    );
  if (mode === 'legacy' && facts.os.family === 'el')
    return hostFinding(
      ID,
      host,
      'warn',
      `iptables ${version} runs the legacy backend, but ${facts.os.prettyName} ships nf_tables`,
      'switch back to iptables-nft (alternatives --set iptables /usr/sbin/iptables-nft) or tell the CNI: FELIX_IPTABLESBACKEND=Legacy',
    );
  return hostFinding(
    ID,
    host,
    'pass',
    `iptables ${version} (${mode}); rules: legacy ${legacyRules}, nft ${nftRules}; CNI backend: ${recommendedBackend(facts)}`,
  );
}

/** The iptables-backend check. */
export const iptablesBackend: NodeCheck = {
  id: ID,
  title: 'iptables backend, version and leftover rules',
  run: (facts) => [verdict(facts)],
};
