#!/usr/bin/env bash
# A separate virtual environment with anonymeter (it pins numpy<1.27, which synthdata's own
# environment cannot have). Prints the path of its python. Usage: make_venv.sh DIR
set -euo pipefail
dir=${1:?usage: make_venv.sh DIR}
if [ ! -x "$dir/bin/python" ] || ! "$dir/bin/python" -c "import anonymeter" 2>/dev/null; then
  python3 -m venv "$dir" >&2
  "$dir/bin/pip" install -q "anonymeter==1.1.0" >&2
fi
echo "$dir/bin/python"
