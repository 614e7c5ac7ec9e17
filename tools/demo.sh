#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job (the README's first command).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh build
build/cli/glassbox audit -o glassbox-report
