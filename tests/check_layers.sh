#!/usr/bin/env bash
# tests/check_layers.sh: the pure tier stays pure (STYLE.md B.3 rule 1).
# Fails when a file in src/core, src/smtp or src/config, or any file whose header
# declares itself PURE, includes Asio, spdlog, the filesystem, sockets, or reads a clock.
set -u
src=${1:-$(dirname "$0")/../src}
forbidden='#include *[<"](boost/asio|spdlog|filesystem|fstream|sys/socket\.h|netinet/|arpa/inet\.h|unistd\.h|log/log\.hpp)'
clock_read='(system_clock|steady_clock|high_resolution_clock)::now|[^_a-z]time\(nullptr\)|gettimeofday|clock_gettime'
files=$( { find "$src/core" "$src/smtp" "$src/config" -name '*.[hc]pp' 2>/dev/null
           grep -l -E '^// *PURE' -r "$src" --include='*.hpp' | sed 's/\.hpp$//' | while read -r f; do ls "$f".hpp "$f".cpp 2>/dev/null; done
         } | sort -u)
bad=0
checked=0
for f in $files; do
  checked=$((checked + 1))
  if grep -n -E "$forbidden" "$f"; then echo "layer violation (I/O include in pure code): $f"; bad=1; fi
  if grep -n -E "$clock_read" "$f"; then echo "layer violation (clock read in pure code): $f"; bad=1; fi
done
# A check that looks at nothing cannot fail: insist on having seen the pure tier.
if [ "$checked" -lt 5 ]; then echo "check_layers: only $checked files found under $src"; exit 1; fi
echo "check_layers: $checked pure files checked"
[ $bad -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $bad
