#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs one libFuzzer target for a while on a scratch copy of its seeds.
#
#   run-target.sh BINARY FUZZ_DIR SECONDS WORK_DIR
#
# FUZZ_DIR holds corpus/<target>/ (the seeds, never written to) and
# <target>.dict. New inputs go to WORK_DIR/<target>/new, a crashing input to
# WORK_DIR/<target>/crash-*; the libFuzzer log is WORK_DIR/<target>/log.
# Exits non-zero on any crash, leak, timeout or sanitizer report, and when
# the log does not show a positive number of executions (a target that ran
# nothing has tested nothing), after printing the end of the log; prints
# one summary line either way.
set -u
bin=$1
fuzzdir=$2
seconds=$3
work=$4
name=$(basename "$bin")
out="$work/$name"
rm -rf "$out"
mkdir -p "$out/new"

case $name in
    fuzz_token) maxlen=20000 ;;    # the 16 KiB token cap and a little more
    fuzz_jwks) maxlen=65536 ;;     # room for the 10,000-key seed
    *) maxlen=4096 ;;
esac
dict=""
[ -f "$fuzzdir/$name.dict" ] && dict="-dict=$fuzzdir/$name.dict"

# detect_leaks: LeakSanitizer runs after every input that allocated more
# than it freed; malloc_limit_mb: one input may not take more than that.
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=1:allocator_may_return_null=1" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:print_stacktrace=1:halt_on_error=1" \
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=512 -max_len="$maxlen" -print_final_stats=1 \
    -artifact_prefix="$out/" $dict "$out/new" "$fuzzdir/corpus/$name" \
    >"$out/log" 2>&1
rc=$?

# -print_final_stats=1 prints "stat::number_of_executed_units: N"; the
# "Done N runs in S second(s)" line says the same where it is missing
execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9][0-9]*\) *$/\1/p' \
    "$out/log" | tail -1)
[ -n "$execs" ] || \
    execs=$(sed -n 's/^Done \([0-9][0-9]*\) runs in .*/\1/p' "$out/log" | tail -1)
cov=$(grep -o 'cov: [0-9]*' "$out/log" | tail -1)
corpus=$(ls "$out/new" | wc -l)
if [ $rc -ne 0 ]; then
    tail -n 60 "$out/log"
    echo "$name: FAILED (exit $rc) after ${execs:-?} executions; input: $(ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null | head -1)"
    exit 1
fi
if [ -z "$execs" ] || [ "$execs" -le 0 ]; then
    tail -n 60 "$out/log"
    echo "$name: FAILED: ${execs:-no} executions counted in the log (exit 0)"
    exit 1
fi
echo "$name: $execs executions in ${seconds} s, ${cov:-cov: ?}, $corpus new inputs, no finding"
