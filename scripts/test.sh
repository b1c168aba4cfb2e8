#!/usr/bin/env bash
# The test command: type-check, check the matrix, and run every test (unit and lab) with Node 24.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
tsc -p .
node bin/ferry.js matrix check
vitest run "$@"
