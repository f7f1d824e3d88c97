#!/bin/sh
# Compiles requirements.lock: every package the Functions deployment installs, pinned with ==, for
# the deployed platform (Python 3.11, Linux x86_64, as functionAppConfig.runtime and Flex run it),
# resolved from the ranges in requirements.txt by uv (requirements-dev.txt). requirements.txt ends
# with `-c requirements.lock`, so the remote build's `pip install -r requirements.txt` installs
# exactly these versions. Run after changing requirements.txt, or to take newer releases:
#   infra/scripts/lock-requirements.sh            keep current pins where the ranges allow
#   infra/scripts/lock-requirements.sh --upgrade  newest releases within the ranges
# No hashes: pip's hash-checking mode is all-or-nothing, and requirements-dev.txt includes
# requirements.txt beside unpinned dev tools, so hashes here would make every dev install fail.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
python="${PYTHON:-$repo/.venv/bin/python}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The ranges without the constraint line, so that the old lock does not hold back --upgrade.
grep -v '^-c requirements.lock' "$repo/requirements.txt" > "$work/requirements.txt"
cd "$work"
"$python" -m uv pip compile requirements.txt \
  --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
  --custom-compile-command "infra/scripts/lock-requirements.sh" \
  --output-file "$repo/requirements.lock" --quiet "$@"
echo "wrote requirements.lock"
