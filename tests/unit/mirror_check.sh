#!/bin/sh
# Tests mirror lib/: every lib/<name>.cpp has tests/unit/test_<name>.cpp, or a line
# in the family map below naming the one test file its family shares. Prints each
# source without a test and exits 1; exits 0 when every source has one.
#   usage: mirror_check.sh SOURCE_DIR
set -u
src=${1:?usage: mirror_check.sh SOURCE_DIR}

# Families whose tests legitimately live in one file: "pattern test_file  # why".
# Keep it short; a new file belongs here only when its own test would split a story.
family_test() {
  case "$1" in
  config_*) echo test_config ;;        # the config reader, key table and checks: one parse per test
  handle_*) echo test_handlers ;;      # the handlers, driven through one harness
  check_config_output) echo test_check_config ;; # --check-config's printing, run as a program
  cgi | fcgi_loop) echo test_serve ;;  # run modes: test_serve runs the echo program in each
  *) echo "test_$1" ;;
  esac
}

missing=0
for cpp in "$src"/lib/*.cpp; do
  name=$(basename "$cpp" .cpp)
  test=$(family_test "$name")
  if [ ! -f "$src/tests/unit/$test.cpp" ]; then
    echo "lib/$name.cpp has no test: tests/unit/$test.cpp is missing" >&2
    missing=$((missing + 1))
  fi
done
if [ "$missing" -ne 0 ]; then
  echo "$missing library source(s) without a test file (tests mirror lib/, see tests/unit/mirror_check.sh)" >&2
  exit 1
fi
echo "every lib/*.cpp has its tests/unit/test_*.cpp"
