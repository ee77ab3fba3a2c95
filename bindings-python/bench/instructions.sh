#!/usr/bin/env bash
# Instructions per touchpoint of each way in (callgrind; independent of machine load):
#   bash bench/instructions.sh [N]      (N touchpoints, default 20000; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
py=${PYTHON:-.venv/bin/python}
export PYTHONHASHSEED=0
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$py" bench/instructions.py "$1" "$n" 2>&1 \
    | grep -Eo 'Collected : [0-9]+' | awk '{print $3}'
}
base=$(count none)
for mode in dict literal json many lines table; do
  total=$(count "$mode")
  printf '%-6s %8d instructions per touchpoint\n' "$mode" $(( (total - base) / n ))
done
