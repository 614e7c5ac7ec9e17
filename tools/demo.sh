#!/usr/bin/env bash
# Installs what is missing, builds the CLI (only what the audit needs: no test or bench target), and runs the
# main job (the README's first command).
set -euo pipefail
cd "$(dirname "$0")/.."
GB_TARGETS=glassbox tools/setup.sh build
build/cli/glassbox audit -o glassbox-report
