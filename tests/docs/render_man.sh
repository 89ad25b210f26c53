#!/bin/sh
# tests/docs/render_man.sh PAGE...: each built man page renders with groff's man
# macros, tbl and preconv (UTF-8 input, as man(1) reads it) without a single warning, and has its NAME and SYNOPSIS or
# DESCRIPTION sections. Exit 1 on the first page that does not.
set -u
command -v groff >/dev/null || { echo "render_man: groff is missing (apt-get install groff-base)" >&2; exit 1; }
status=0
for page in "$@"; do
  if [ ! -s "$page" ]; then
    echo "render_man: $page is missing or empty (build the oauth-fcgi-man target)" >&2
    status=1
    continue
  fi
  warnings=$(groff -k -t -man -ww -z -Tutf8 "$page" 2>&1)
  rc=$?
  if [ $rc -ne 0 ] || [ -n "$warnings" ]; then
    echo "render_man: $page: groff exit $rc:" >&2
    printf '%s\n' "$warnings" >&2
    status=1
    continue
  fi
  text=$(groff -k -t -man -Tutf8 -P-cbou "$page" 2>/dev/null)
  for section in NAME DESCRIPTION; do
    printf '%s\n' "$text" | grep -q "^$section\$" ||
      { echo "render_man: $page: no $section section" >&2; status=1; }
  done
  [ $status -eq 0 ] && echo "render_man: $page renders without warnings"
done
exit $status
