#!/usr/bin/env bash
# Install the Debian packages Khoso needs, or print the exact command when that is not possible.
# Usage: scripts/system-packages.sh run|test
set -euo pipefail

run_packages=(tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng fonts-dejavu-core poppler-utils
              python3-venv nodejs npm)
test_packages=(chromium libmagic1 postgresql-client)

wanted=("${run_packages[@]}")
if [ "${1:-run}" = "test" ]; then wanted+=("${test_packages[@]}"); fi

missing=()
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
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
