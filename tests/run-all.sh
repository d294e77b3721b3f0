#!/bin/sh
# make check: every suite, then one closing line with the totals.
# Usage: tests/run-all.sh UNIT-BINARIES...
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# the suites' own closing lines decide: a pipeline's status is tee's
python3 -m tests.layering | tee -a "$log"
tests/unit/run.sh "$@" | tee -a "$log"
tests/fuzz/run.sh replay build/fuzz/fuzz_* | tee -a "$log"
python3 -m tests.boot.run | tee -a "$log"
python3 -m tests.cli.run | tee -a "$log"
passed=0 failed=0
for suite in layering unit fuzz boot cli; do
	line=$(grep "^$suite: [0-9]* passed, [0-9]* failed" "$log" | tail -n 1)
	[ -n "$line" ] || { echo "$suite: no closing line"; failed=$((failed + 1)); status=1; continue; }
	set -- $line
	passed=$((passed + $2)) failed=$((failed + $4))
done
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] || status=1
exit $status
