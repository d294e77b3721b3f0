#!/bin/sh
# libFuzzer harnesses of src/lib (ASan + UBSan).
#   run.sh replay BIN...        every file of tests/fuzz/corpus/NAME, once
#   run.sh fuzz SECONDS BIN...  each harness for SECONDS from its corpus;
#                               new inputs go to build/fuzz/new/NAME
#                               (FUZZ_SAVE=1: into the repo's corpus)
# Prints each harness's executions and coverage, then "N passed, N failed".
mode=$1; shift
[ "$mode" = fuzz ] && { secs=$1; shift; }
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0; fail=0
for bin in "$@"; do
	name=$(basename "$bin"); name=${name#fuzz_}
	corpus=$top/tests/fuzz/corpus/$name
	log=$top/build/fuzz/$name.log
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
		echo "FAIL $name: no seed corpus in $corpus"; fail=$((fail + 1))
		continue
	fi
	if [ "$mode" = replay ]; then
		"$bin" -runs=0 "$corpus" > "$log" 2>&1
	else
		new=$top/build/fuzz/new/$name
		mkdir -p "$new"
		[ "${FUZZ_SAVE:-0}" = 1 ] && new=$corpus
		"$bin" -max_total_time="$secs" -print_final_stats=1 \
			-max_len=65536 "$new" "$corpus" > "$log" 2>&1
	fi
	rc=$?
	stats=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "$log" | tail -1 |
		sed -E 's/^#([0-9]+)[[:space:]]+[A-Z]+[[:space:]]+cov: ([0-9]+) ft: ([0-9]+) corp: ([^ ]+).*/\1 runs, cov \2, ft \3, corpus \4/')
	if [ $rc -eq 0 ]; then
		echo "ok   $name: $stats"; pass=$((pass + 1))
	else
		echo "FAIL $name (exit $rc): see $log"
		grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -5
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
