// STAND-IN scripts for the NVIDIA driver and Container Toolkit (no GPU on this machine), POSIX sh so they run on
// the bare lab base. Each refuses (exit 2, stderr) anything it does not understand, prints STAND-IN for
// --version, and appends one JSON line per call to /var/log/ferry-stand-in/calls.jsonl (the stand-in contract).
// nvidia-smi answers as an H100 node does: `NVIDIA H100 80GB HBM3, <driver>` per GPU (recorded output of
// `nvidia-smi --query-gpu=name,driver_version` on an Ubuntu 22.04 H100 node, published in a public GitHub report;
// the name is NVIDIA's product string for H100 SXM5 80GB, PCI device 0x2330 as in test/fixtures/facts/
// rocky8-gpu-reconstructed). Its failure texts are the real tool's.

/** Shared by every script: the call log and the strict refusal. */
const PRELUDE = (tool: string) => `#!/bin/sh
# STAND-IN for ${tool} (ferry tests only; see test/stand-ins/nvidia/).
TOOL=${tool}
ARGV_JSON=""
for a in "$@"; do e=$(printf '%s' "$a" | sed 's/\\\\/\\\\\\\\/g; s/"/\\\\"/g'); ARGV_JSON="$ARGV_JSON\${ARGV_JSON:+,}\\"$e\\""; done
log_call() {
  mkdir -p /var/log/ferry-stand-in
  printf '{"tool":"%s","argv":[%s],"time":"%s","exit":%s}\\n' "$TOOL" "$ARGV_JSON" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" >> /var/log/ferry-stand-in/calls.jsonl
}
refuse() { echo "$TOOL STAND-IN: $1" >&2; log_call 2; exit 2; }
`;

/**
 * Where dkms installs a module under /lib/modules/<K>/: Debian's dkms 3 `updates/dkms`; on EL, dkms (EPEL) uses
 * `extra` (dkms's DEST_MODULE_LOCATION default for Red Hat-like systems, dkms(8) "DEST_MODULE_LOCATION").
 */
export const MODULE_DIR = { debian: 'updates/dkms', el: 'extra' } as const;

/** nvidia-smi: the three queries ferry and its doctor make (the upgrade gate's driver_version one too), the loaded-module check, the GPUs on the PCI bus. */
export function nvidiaSmi(version: string, moduleDir: string = MODULE_DIR.debian): string {
  return `${PRELUDE('nvidia-smi')}VERSION=${version}
case "$*" in
  --version) printf 'NVIDIA-SMI version  : %s (STAND-IN)\\nDRIVER version      : %s\\n' "$VERSION" "$VERSION"; log_call 0; exit 0 ;;
  "--query-gpu=name,driver_version --format=csv,noheader") Q=short ;;
  "--query-gpu=name,driver_version,pci.bus_id --format=csv,noheader") Q=bus ;;
  "--query-gpu=driver_version --format=csv,noheader") Q=version ;;
  *) refuse "unknown arguments: $*" ;;
esac
# The module for the running kernel sits where dkms installs it; its version is in its .modinfo section.
MOD=/lib/modules/$(uname -r)/${moduleDir}/nvidia.ko
if [ ! -f "$MOD" ]; then
  echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."
  log_call 9; exit 9
fi
# /run is emptied at boot like the kernel's module list: the first call loads the module (nvidia-modprobe's job);
# a module loaded earlier of another version stays until the node reboots.
LOADED=/run/ferry-stand-in/nvidia-loaded
if [ ! -e "$LOADED" ]; then mkdir -p /run/ferry-stand-in; grep -ao 'version=[0-9.]*' "$MOD" | head -n 1 | cut -d= -f2 > "$LOADED"; fi
if [ "$(cat "$LOADED")" != "$VERSION" ]; then
  printf 'Failed to initialize NVML: Driver/library version mismatch\\nNVML library version: %s\\n' "\${VERSION%.*}"
  log_call 18; exit 18
fi
n=0
for d in /sys/bus/pci/devices/*; do
  [ "$(cat "$d/vendor" 2>/dev/null)" = 0x10de ] || continue
  case "$(cat "$d/class")" in 0x03*) ;; *) continue ;; esac
  n=$((n + 1))
  bus=$(printf '0000%s' "\${d##*/}" | tr a-f A-F)
  case "$Q" in short) echo "NVIDIA H100 80GB HBM3, $VERSION" ;; version) echo "$VERSION" ;; *) echo "NVIDIA H100 80GB HBM3, $VERSION, $bus" ;; esac
done
if [ "$n" = 0 ]; then echo "No devices were found"; log_call 6; exit 6; fi
log_call 0
`;
}

/**
 * What DKMS does for nvidia-kernel-open-dkms and one kernel: refuse without that kernel's headers, build nvidia.ko
 * with the node's gcc (a relocatable ELF object whose .modinfo section carries version and vermagic, as a real
 * module's does), install it under /lib/modules/<K>/updates/dkms/.
 */
export function dkmsBuild(version: string, moduleDir: string = MODULE_DIR.debian, headersPackage = 'linux-headers'): string {
  return `${PRELUDE('nvidia-dkms-build')}K=$1
[ -n "$K" ] || refuse "usage: nvidia-dkms-build KERNEL"
H=/lib/modules/$K/build
if ! grep -qs "\\"$K\\"" "$H/include/generated/utsrelease.h"; then
  echo "Error! Your kernel headers for kernel $K cannot be found at $H (install ${headersPackage}-$K)." >&2
  log_call 1; exit 1
fi
T=$(mktemp -d)
cat > "$T/nvidia.c" <<'SRC'
/* STAND-IN for NVIDIA's open GPU kernel module: only its module information. */
static const char ferry_modinfo[] __attribute__((section(".modinfo"), used, aligned(1))) =
  "version=${version}\\0license=Dual MIT/GPL\\0description=NVIDIA open kernel module (ferry STAND-IN)\\0vermagic=KERNEL SMP mod_unload ";
SRC
sed -i "s/KERNEL/$K/" "$T/nvidia.c"
gcc -c -o "$T/nvidia.ko" "$T/nvidia.c" || { rm -rf "$T"; log_call 1; exit 1; }
install -D -m 0644 "$T/nvidia.ko" /lib/modules/"$K"/${moduleDir}/nvidia.ko
rm -rf "$T"
echo "nvidia/${version}: built and installed for $K (STAND-IN)"
log_call 0
`;
}

/** /etc/kernel/header_postinst.d hook: headers installed after the module get it built too (dkms's own hook does that). */
export function dkmsHeaderHook(build: string): string {
  return `#!/bin/sh
# STAND-IN: build the NVIDIA module for the kernel whose headers were just installed.
set -e
[ -n "$1" ] || exit 0
exec ${build} "$1"
`;
}

/** nvidia-persistenced as its unit starts it (foreground here, so systemd tracks it as Type=simple). */
export function nvidiaPersistenced(): string {
  return `${PRELUDE('nvidia-persistenced')}case "$*" in
  --version) echo "nvidia-persistenced: STAND-IN"; log_call 0; exit 0 ;;
  --verbose) log_call 0; exec sleep infinity ;;
  *) refuse "unknown arguments: $*" ;;
esac
`;
}

/** nvidia-container-runtime: containerd's runc shim calls it with runc's argv; it checks there is a runc command and execs runc. */
export function nvidiaContainerRuntime(): string {
  return `${PRELUDE('nvidia-container-runtime')}if [ "$*" = --version ]; then echo "NVIDIA Container Runtime version STAND-IN"; log_call 0; exit 0; fi
known=
for a in "$@"; do
  case "$a" in create|start|state|kill|delete|features|exec|ps|pause|resume|update|events|run|checkpoint|restore) known=$a; break ;; esac
done
[ -n "$known" ] || refuse "no runc command in: $*"
RUNC=$(command -v runc) || refuse "runc is not installed"
log_call 0
exec "$RUNC" "$@"
`;
}

/** nvidia-ctk: only --version. ferry renders containerd's config itself and must never call `runtime configure`. */
export function nvidiaCtk(): string {
  return `${PRELUDE('nvidia-ctk')}case "$*" in
  --version) echo "NVIDIA Container Toolkit CLI version STAND-IN"; log_call 0; exit 0 ;;
  *) refuse "unknown arguments: $*" ;;
esac
`;
}

/** The unit nvidia-compute-utils ships (stand-in: Type=simple, the daemon stays in the foreground). */
export const PERSISTENCED_UNIT = `[Unit]
Description=NVIDIA Persistence Daemon (ferry STAND-IN)
Wants=syslog.target

[Service]
Type=simple
ExecStart=/usr/bin/nvidia-persistenced --verbose

[Install]
WantedBy=multi-user.target
`;
