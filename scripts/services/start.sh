#!/usr/bin/env bash
# Start the test servers the suites need, bound to 127.0.0.1. Idempotent: a server that already
# answers is reused. With no names, starts those listed in scripts/services/required.txt.
#   bash scripts/services/start.sh              # the required set
#   bash scripts/services/start.sh redis mariadb
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

names=("$@")
if ((${#names[@]} == 0)); then
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%%#*}
    line=${line//[[:space:]]/}
    [[ -n $line ]] && names+=("$line")
  done <"$here/required.txt"
fi
if ((${#names[@]} == 0)); then
  echo '[services] none required (scripts/services/required.txt lists none)' >&2
  exit 0
fi

failed=()
for name in "${names[@]}"; do
  if [[ ! $name =~ ^[a-z0-9-]+$ || ! -f "$here/$name.sh" ]]; then
    echo "[services] unknown service '$name' (have: $(cd "$here" && ls ./*.sh | sed 's|^\./||; s|\.sh$||' | grep -vxE 'lib|start' | tr '\n' ' '))" >&2
    failed+=("$name")
    continue
  fi
  # A subshell per service: each file defines the same svc_* functions.
  if ! (
    # shellcheck source=/dev/null
    source "$here/lib.sh"
    # shellcheck source=/dev/null
    source "$here/$name.sh"
    ensure_service "$name"
  ); then
    failed+=("$name")
  fi
done

if ((${#failed[@]} > 0)); then
  echo "[services] FAILED: ${failed[*]}" >&2
  exit 1
fi
