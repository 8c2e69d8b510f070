#!/usr/bin/env bash
# Installs the pinned npm package oidc-provider (a certified OpenID provider) into
# tests/support/.node/ (git-ignored) for the OpenID Connect tests (tests/identity/),
# as bench/lighthouse.py does for Lighthouse. Does nothing when that version is there.
set -euo pipefail
VERSION="9.13.3"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="$HERE/.node"
INSTALLED="$(node -p "require('$DIR/node_modules/oidc-provider/package.json').version" 2>/dev/null || true)"
if [[ "$INSTALLED" == "$VERSION" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
mkdir -p "$DIR"
npm install --no-audit --no-fund --silent --save-exact --prefix "$DIR" "oidc-provider@$VERSION"
