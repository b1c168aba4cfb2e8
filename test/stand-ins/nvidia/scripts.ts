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

/** nvidia-smi: the two queries ferry and its doctor make, the loaded-module check, the GPUs on the PCI bus. */
export function nvidiaSmi(version: string): string {
  return `${PRELUDE('nvidia-smi')}VERSION=${version}
case "$*" in
  --version) printf 'NVIDIA-SMI version  : %s (STAND-IN)\\nDRIVER version      : %s\\n' "$VERSION" "$VERSION"; log_call 0; exit 0 ;;
  "--query-gpu=name,driver_version --format=csv,noheader") Q=short ;;
  "--query-gpu=name,driver_version,pci.bus_id --format=csv,noheader") Q=bus ;;
  *) refuse "unknown arguments: $*" ;;
esac
# The module for the running kernel sits where the real package puts nvidia.ko.
MOD=$(ls /lib/modules/"$(uname -r)"/kernel/nvidia-*/nvidia.ko.stand-in 2>/dev/null | head -n 1)
if [ -z "$MOD" ]; then
  echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."
  log_call 9; exit 9
fi
# /run is emptied at boot like the kernel's module list: the first call loads the module (nvidia-modprobe's job);
# a module loaded earlier of another version stays until the node reboots.
LOADED=/run/ferry-stand-in/nvidia-loaded
if [ ! -e "$LOADED" ]; then mkdir -p /run/ferry-stand-in; cat "$MOD" > "$LOADED"; fi
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
  if [ "$Q" = short ]; then echo "NVIDIA H100 80GB HBM3, $VERSION"; else echo "NVIDIA H100 80GB HBM3, $VERSION, $bus"; fi
done
if [ "$n" = 0 ]; then echo "No devices were found"; log_call 6; exit 6; fi
log_call 0
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
