#!/usr/bin/env bash
# Tests of the Python binding: bash bindings-python/test.sh
# On a fresh machine with Python 3 (3.9+; 3.11 in CI) and rustup: creates bindings-python/.venv,
# installs requirements-dev.txt, builds and installs the package (release, editable), runs
# pytest. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
export VIRTUAL_ENV="$PWD/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

echo "building the extension (release)"
maturin develop --release
python -c "import jornada, sys; print('jornada', jornada.__version__, 'on Python', sys.version.split()[0])"

python -m pytest -q -p no:cacheprovider tests "$@"
