# Everything ferry needs to know about one node, in one read-only pass (POSIX sh, sent on stdin): doctor's checks and
# install's phases read the same facts, once per node per run (src/facts/node.ts).
# Each section prints "@@ferry NAME", the command's standard output, then "@@ferry-rc NAME CODE".
# Nothing here writes, loads a module or starts a service; missing commands simply leave a section empty.
# A first line `want_packages=1` (added by gatherScript({ packages: true })) also lists every installed package.
LC_ALL=C
export LC_ALL
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
kr=$(uname -r)

s() {
  name=$1
  shift
  printf '\n@@ferry %s\n' "$name"
  "$@" 2>/dev/null
  printf '\n@@ferry-rc %s %s\n' "$name" "$?"
}
has() { command -v "$1" >/dev/null 2>&1; }
first_line() { "$@" | head -n 1; }

# Reads use the shell's own `read` (no fork per file): a node with many links or PCI devices stays fast.
links() {
  for d in /sys/class/net/*; do
    [ -e "$d/mtu" ] || continue
    read -r mtu < "$d/mtu"
    read -r mac < "$d/address"
    read -r state < "$d/operstate"
    printf '%s %s %s %s\n' "${d##*/}" "$mtu" "$mac" "$state"
  done
}
sysctls() {
  for k in net.ipv4.ip_forward:net/ipv4/ip_forward net.bridge.bridge-nf-call-iptables:net/bridge/bridge-nf-call-iptables \
    net.bridge.bridge-nf-call-ip6tables:net/bridge/bridge-nf-call-ip6tables net.ipv4.conf.all.rp_filter:net/ipv4/conf/all/rp_filter \
    kernel.keys.root_maxkeys:kernel/keys/root_maxkeys kernel.keys.root_maxbytes:kernel/keys/root_maxbytes \
    net.ipv4.neigh.default.gc_thresh2:net/ipv4/neigh/default/gc_thresh2 net.ipv4.neigh.default.gc_thresh3:net/ipv4/neigh/default/gc_thresh3; do
    # cat, not read: integer sysctls answer only a read at offset 0, and dash reads byte by byte.
    [ -r "/proc/sys/${k#*:}" ] && printf '%s=%s\n' "${k%%:*}" "$(cat "/proc/sys/${k#*:}")"
  done
  return 0
}
# Legacy tables exist only when /proc/net/ip_tables_names lists some: reading them then loads no module.
# (grep, not test -s: proc files report size 0.)
legacy_save() { grep -qs . /proc/net/ip_tables_names || return 0; iptables-legacy-save; }
services() {
  units="firewalld ufw nftables containerd crio docker kubelet NetworkManager chronyd systemd-timesyncd ntp ntpd fapolicyd nvidia-fabricmanager nvidia-persistenced"
  # One systemctl call answers for every unit, one line each, in order.
  systemctl is-active $units 2>/dev/null | {
    for u in $units; do
      read -r st || st=
      printf '%s %s\n' "$u" "$st"
    done
  }
}
disks() {
  for p in / /var /var/lib/containerd /var/lib/kubelet /var/lib/etcd /var/lib/containers; do
    q=$p
    while [ ! -e "$q" ]; do q=${q%/*}; q=${q:-/}; done
    printf '%s %s\n' "$p" "$(df -Pk "$q" | tail -n 1)"
  done
}
crio_conf() { grep -hsE '^[[:space:]]*cgroup_manager' /etc/crio/crio.conf /etc/crio/crio.conf.d/*; }
headers() {
  if has dpkg-query; then
    echo "manager dpkg linux-headers-$kr"
    dpkg-query -W -f='${Status}\n' "linux-headers-$kr"
  elif has rpm; then
    echo "manager rpm kernel-devel-$kr"
    rpm -q "kernel-devel-$kr"
  fi
}
reboot_pending() {
  [ -e /var/run/reboot-required ] && echo 'reboot-required-file'
  if has needs-restarting; then
    needs-restarting -r >/dev/null 2>&1
    echo "needs-restarting $?"
  fi
  return 0
}
el_packages() { has dpkg-query || { has rpm && rpm -q container-selinux fapolicyd; }; }
# Every installed package as name, version, arch (one tab-separated line each), for `ferry doctor --site-out`:
# dpkg's status abbreviation is kept so the parser drops removed packages that left config files (`rc`); rpm's
# version carries the epoch when there is one (`1:1.1.1k-12.el8_9`), as dnf compares it.
installed_packages() {
  if has dpkg-query; then
    echo 'manager dpkg'
    dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n'
  elif has rpm; then
    echo 'manager rpm'
    rpm -qa --qf '%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\n'
  fi
}
pythons() {
  for p in /usr/libexec/platform-python python3 platform-python; do command -v "$p"; done
  return 0
}
tools() {
  for t in conntrack socat ebtables ethtool tc nsenter ip iptables nft ss modprobe containerd crio kubelet kubeadm; do
    printf '%s %s\n' "$t" "$(command -v "$t" || echo -)"
  done
}
secure_boot() {
  if has mokutil; then
    mokutil --sb-state
  else
    for f in /sys/firmware/efi/efivars/SecureBoot-*; do [ -r "$f" ] && printf 'efivar %s\n' "$(od -An -tu1 "$f")"; done
  fi
  return 0
}
gpus() {
  for d in /sys/bus/pci/devices/*; do
    [ -r "$d/vendor" ] || continue
    read -r vendor < "$d/vendor"
    [ "$vendor" = 0x10de ] || continue
    read -r device < "$d/device"
    read -r class < "$d/class"
    printf '%s %s %s\n' "${d##*/}" "$device" "$class"
  done
}
# Only where firewalld runs: its zones, policies, ipsets and the ports of the services they name (all read-only).
firewalld_config() {
  [ "$(systemctl is-active firewalld 2>/dev/null)" = active ] && has firewall-cmd || return 0
  zones=$(firewall-cmd --list-all-zones)
  policies=$(firewall-cmd --list-all-policies)
  printf 'default-zone %s\n== zones\n%s\n== policies\n%s\n' "$(firewall-cmd --get-default-zone)" "$zones" "$policies"
  for i in $(firewall-cmd --get-ipsets); do printf '== ipset %s\n' "$i"; firewall-cmd --info-ipset="$i"; done
  # A service's ports are in its XML (/etc overrides /usr/lib): read there, one firewall-cmd start less per service.
  for svc in $(printf '%s\n%s\n' "$zones" "$policies" | sed -n 's/^  services: //p' | tr ' ' '\n' | sort -u); do
    printf '== service %s\n' "$svc"
    for d in /etc/firewalld/services /usr/lib/firewalld/services; do
      [ -r "$d/$svc.xml" ] && { grep -oE '<(port|protocol) [^>]*>' "$d/$svc.xml"; break; }
    done
  done
  return 0
}
# On a node that is already a control plane (admin.conf exists): the node's clock, then kubeadm's certificate table
# (read-only), or where kubeadm is absent openssl's notAfter of each certificate; the markers as in src/certs/check.ts.
control_plane_certs() {
  [ -e /etc/kubernetes/admin.conf ] || return 0
  date -u +%s
  if command -v kubeadm >/dev/null 2>&1; then echo @@kubeadm; timeout 60 kubeadm certs check-expiration; return; fi
  echo @@openssl
  for f in /etc/kubernetes/pki/*.crt /etc/kubernetes/pki/etcd/*.crt; do
    [ -e "$f" ] || continue
    printf '%s ' "$f"; openssl x509 -noout -enddate -in "$f"
  done
}
# Proxy settings may carry user:password@: strip it before anything leaves the node.
proxies() {
  { env; cat /etc/environment; systemctl show containerd -p Environment; } 2>/dev/null |
    tr ' ' '\n' | grep -iE '^(Environment=)?(https?_proxy|no_proxy)=' | sed -e 's/^Environment=//' -e 's#://[^/@]*@#://#'
}

s uname uname -srm
s os-release cat /etc/os-release
s proc-version cat /proc/version
s id id -u
s hostname hostname
s host-lookup getent hosts "$(hostname)"
s machine-id cat /etc/machine-id
s product-uuid cat /sys/class/dmi/id/product_uuid
s links links
s addresses ip -o -4 addr show
s default-route ip -4 route show default
s cgroup-fs stat -fc %T /sys/fs/cgroup
s cgroup-controllers cat /sys/fs/cgroup/cgroup.controllers
s proc-cgroups cat /proc/cgroups
s modules cut -d ' ' -f 1 /proc/modules
s modules-dir ls -d "/lib/modules/$kr" "/lib/modules/$kr/build"
s filesystems cat /proc/filesystems
s sysctl sysctls
s swaps cat /proc/swaps
s meminfo grep -E '^(MemTotal|MemAvailable):' /proc/meminfo
s nproc nproc
s iptables-version iptables -V
s iptables-legacy legacy_save
s iptables-nft iptables-nft-save
s nft-tables nft list tables
s firewalld-backend grep -sE '^FirewallBackend' /etc/firewalld/firewalld.conf
s services services
s firewalld firewalld_config
s timedatectl timedatectl show
s ports ss -Htln
s disks disks
s containerd-version containerd --version
s containerd-config containerd config dump
s crio-config crio_conf
s kubelet-config cat /var/lib/kubelet/config.yaml
s kernel-headers headers
s reboot reboot_pending
s selinux getenforce
s el-packages el_packages
s python pythons
s tools tools
s secure-boot secure_boot
s gpus gpus
s nvidia-version cat /proc/driver/nvidia/version
s nvidia-smi nvidia-smi --query-gpu=name,driver_version,pci.bus_id --format=csv,noheader
s gcc first_line gcc --version
s resolv-conf grep -E '^(nameserver|search)' /etc/resolv.conf
s proxy proxies
s nm-unmanaged grep -rhs 'unmanaged-devices' /etc/NetworkManager/conf.d /etc/NetworkManager/NetworkManager.conf
s control-plane-certs control_plane_certs
# The admin host's address as the node sees it (sshd sets SSH_CLIENT; empty where the session has none).
s ssh-client printenv SSH_CLIENT
[ "${want_packages:-0}" = 1 ] && s packages installed_packages
true
