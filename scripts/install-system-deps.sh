#!/usr/bin/env bash
# Debian packages the tests need: Chromium for the browser tests (espeak-ng for the voice tests to come).
set -euo pipefail
needed=()
command -v chromium >/dev/null 2>&1 || needed+=(chromium)
command -v espeak-ng >/dev/null 2>&1 || needed+=(espeak-ng)
[ ${#needed[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup: apt-get install ${needed[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
