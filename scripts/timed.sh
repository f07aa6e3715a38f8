#!/usr/bin/env bash
# `make test`'s steps, each timed, and the table of their durations printed at the end (also when a
# step fails, which it names), so that a slow step shows in every CI log.
# Usage: scripts/timed.sh STEP [STEP ...]   each STEP is a make target; "molecule:SCENARIO" runs one
# Molecule scenario.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

rows=()
report() {
  echo
  echo "make test: each step's duration"
  printf '  %-28s %6s\n' "${rows[@]}"
}
for step in "$@"; do
  start=$(date +%s)
  case "$step" in
    molecule:*) molecule test -s "${step#molecule:}" ;;
    *) make --no-print-directory "$step" ;;
  esac
  status=$?
  rows+=("$step" "$(( $(date +%s) - start ))s")
  if [ "$status" -ne 0 ]; then
    rows+=("FAILED: $step" "exit $status")
    report
    exit "$status"
  fi
done
report
