#!/usr/bin/env bash
# Install the Debian packages Khoso needs, or print the exact command when that is not possible.
# Each need is checked by what it provides (a command, a file), so that tools installed another
# way (Node.js from NodeSource, Python from pyenv) are accepted as they are.
# Usage: scripts/system-packages.sh run|test
set -euo pipefail
PYTHON=${PYTHON:-python3}
missing=()

need() {  # need "CHECK COMMAND" PACKAGE...
  local check=$1; shift
  eval "$check" >/dev/null 2>&1 || missing+=("$@")
}

need "tesseract --list-langs 2>&1 | grep -qx vie && tesseract --list-langs 2>&1 | grep -qx eng" \
  tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng
need "test -f /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf" fonts-dejavu-core
need "command -v pdftoppm" poppler-utils
need "$PYTHON -c 'import ensurepip, venv'" python3-venv
need "command -v npm && command -v node" nodejs npm
if [ "${1:-run}" = "test" ]; then
  need "command -v chromium" chromium
  need "ldconfig -p | grep -q libmagic.so.1" libmagic1
  need "command -v wrk" wrk
fi
[ ${#missing[@]} -eq 0 ] && exit 0

command="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo="sudo"
else
  echo "Khoso needs these Debian packages: ${missing[*]}" >&2
  echo "Install them as root with:  apt-get update && $command" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo $command
