#!/bin/sh
# Tests mirror lib/: every lib/<layer>/<name>.cpp has tests/unit/<layer>/test_<name>.cpp,
# or a line in the family map below naming the one test file its family shares.
# Prints each source without a test and exits 1; exits 0 when every source has one.
#   usage: mirror_check.sh SOURCE_DIR
set -u
src=${1:?usage: mirror_check.sh SOURCE_DIR}

# Families whose tests legitimately live in one file: "layer/pattern) test  # why".
# Keep it short; a new file belongs here only when its own test would split a story.
family_test() {
  case "$1" in
  config/config_* | core/config) echo config/test_config ;; # the config reader, key table and checks: one parse per test
  handlers/handle_*) echo handlers/test_handlers ;;          # the handlers, driven through one harness
  serve/check_config_output) echo serve/test_check_config ;; # --check-config's printing, run as a program
  serve/cgi | serve/fcgi_loop) echo serve/test_serve ;;     # run modes: test_serve runs the echo program in each
  *) echo "${1%/*}/test_${1#*/}" ;;
  esac
}

missing=0
count=0
for cpp in "$src"/lib/*/*.cpp; do
  rel=${cpp#"$src"/lib/}
  rel=${rel%.cpp}
  test=$(family_test "$rel")
  count=$((count + 1))
  if [ ! -f "$src/tests/unit/$test.cpp" ]; then
    echo "lib/$rel.cpp has no test: tests/unit/$test.cpp is missing" >&2
    missing=$((missing + 1))
  fi
done
if [ "$count" -eq 0 ]; then
  echo "no lib/<layer>/*.cpp found under $src" >&2
  exit 1
fi
if [ "$missing" -ne 0 ]; then
  echo "$missing library source(s) without a test file (tests mirror lib/, see tests/unit/mirror_check.sh)" >&2
  exit 1
fi
echo "every lib/<layer>/*.cpp ($count) has its tests/unit/<layer>/test_*.cpp"
