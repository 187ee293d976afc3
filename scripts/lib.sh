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
