# Source this to put ferry's Node 24 first on PATH: . scripts/env.sh
_ferry_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$_ferry_root/.tools/node/bin:$_ferry_root/node_modules/.bin:$PATH"
unset _ferry_root
