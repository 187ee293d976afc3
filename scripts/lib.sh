# Shared by scripts/setup and scripts/setup-next (sourced, not run).

# Print the path of a Python 3.13 interpreter, or fail with a hint.
find_python() {
  local candidates=()
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)"/versions/3.13*/bin/python3.13)
  fi
  candidates+=("$HOME/.pyenv/versions"/3.13*/bin/python3.13 "$(command -v python3.13 || true)")
  for py in "${candidates[@]}"; do
    if [ -n "$py" ] && [ -x "$py" ]; then echo "$py"; return 0; fi
  done
  echo "scripts/$(basename "$0"): Python 3.13 not found (install it with pyenv: pyenv install 3.13)" >&2
  return 1
}

# pip install into the venv whose python is $1, quietly; a failing pip fails the caller
# (its messages are shown, only the noise about this machine's extra package folders is not).
pip_into() {
  local python=$1
  shift
  "$python" -m pip install --quiet --disable-pip-version-check "$@" 2>&1 \
    | { grep -v "^WARNING: Location" || true; }
}

# Install into the venv whose python is $1 with uv at the version requirement file $2 pins
# (the one that release of Home Assistant pins too): uv fetches and installs in parallel, a
# fresh environment in about a minute where pip takes five. Bytecode is compiled on import, of
# what is imported (pip compiles all of Home Assistant's integrations at install). The rest
# goes to `uv pip install`.
uv_into() {
  local python=$1 requirements=$2
  shift 2
  local uv pin
  uv="$(dirname "$python")/uv"
  pin=$(grep -E '^uv==' "$requirements")
  if [ ! -x "$uv" ] || [ "uv ${pin#uv==}" != "$("$uv" --version | cut -d' ' -f1-2)" ]; then
    pip_into "$python" "$pin"
  fi
  "$uv" pip install --quiet --python "$python" "$@"
}

# Fail unless every "name==version" line of the given requirement files is installed at that
# version in the venv whose python is $1: a silent resolver change or a half-finished install
# must not reach the tests.
check_pins() {
  local python=$1
  shift
  "$python" - "$@" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version

wrong = []
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if "==" not in line or line.startswith("-"):
            continue
        name, pinned = (part.strip() for part in line.split("==", 1))
        try:
            have = version(name)
        except PackageNotFoundError:
            have = "missing"
        if have != pinned:
            wrong.append(f"{name} {have} (wanted {pinned}, {path})")
if wrong:
    sys.exit("not installed as pinned: " + "; ".join(wrong))
PY
}

# The tests of the estate (tests/estate) start a real Mosquitto broker: install Debian's
# package when mosquitto and mosquitto_passwd are missing (as root, or through sudo).
ensure_mosquitto() {
  if command -v mosquitto >/dev/null && command -v mosquitto_passwd >/dev/null; then
    return 0
  fi
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  if ! command -v apt-get >/dev/null; then
    echo "scripts/$(basename "$0"): install mosquitto (the estate tests start one)" >&2
    return 1
  fi
  echo "scripts/$(basename "$0"): installing mosquitto (the estate tests start one)"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    mosquitto >/dev/null
}
