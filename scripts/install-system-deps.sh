#!/usr/bin/env bash
# Installs what the local sandbox and the tests need from Debian's packages when it is missing:
# bubblewrap (isolation), util-linux (setpriv, prlimit), curl (used by the containment tests), pytest for the
# system Python, the real archivers the archive tests build their fixtures with (GNU tar, bsdtar, Info-ZIP
# zip, git), Chromium, which npm run test:ui drives through playwright-core (no browser download), and Cargo
# (Debian's, under /usr: the sandbox sees only /usr, so a rustup toolchain in a home directory is invisible to
# runs). Then pnpm and yarn (classic) from the npm registry, pinned, for the sandbox's install tests.
set -euo pipefail
need=()
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v setpriv >/dev/null && command -v prlimit >/dev/null || need+=(util-linux)
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
# The sandbox sees only /usr, so pytest must be the system Python's (a pyenv or venv pytest is invisible to runs).
/usr/bin/python3 -c "import pytest" 2>/dev/null || need+=(python3-pytest)
command -v bsdtar >/dev/null || need+=(libarchive-tools)
command -v zip >/dev/null || need+=(zip)
command -v tar >/dev/null || need+=(tar)
command -v git >/dev/null || need+=(git)
command -v chromium >/dev/null || need+=(chromium)
[ -x /usr/bin/cargo ] || [ -x /usr/local/bin/cargo ] || need+=(cargo)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}"
fi
# Global npm packages land under npm's prefix (/usr with Debian's Node), so the sandbox sees them.
PNPM_VERSION=10.34.9
YARN_VERSION=1.22.22
npm_need=()
[ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ] || npm_need+=("pnpm@$PNPM_VERSION")
[ "$(yarn --version 2>/dev/null)" = "$YARN_VERSION" ] || npm_need+=("yarn@$YARN_VERSION")
if [ ${#npm_need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && [ ! -w "$(npm prefix -g)" ] && SUDO="sudo"
  $SUDO npm install --global --no-fund --no-audit "${npm_need[@]}"
fi
