#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit tests, integration tests (real
# podvsd, namespaces, packets), the unit tests again under ASan + UBSan, and the shared connection
# tables under TSan.
# Prints "N passed, N failed" last; exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || exit 1
jobs=$(nproc)

build() {  # build DIR [meson options...]; TARGETS= limits what is built
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then meson setup "$dir" "$@" >/dev/null || return 1; fi
  ninja -C "$dir" -j"$jobs" ${TARGETS:-}
}

summary=()
passed=0
failed=0
run_suite() {  # run_suite DIR SUITE
  local out
  out=$(mktemp)
  meson test -C "$1" --suite "$2" --print-errorlogs --num-processes 1 2>&1 | tee "$out"
  local ok fail
  ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$out" | tail -1)
  fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$out" | tail -1)
  local timeout
  timeout=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$out" | tail -1)
  ok=${ok:-0}; fail=$(( ${fail:-0} + ${timeout:-0} ))
  [ "$ok" -gt 0 ] || fail=$((fail + 1))  # a suite that ran nothing is a failure
  passed=$((passed + ok)); failed=$((failed + fail))
  # The failing tests by name in the last lines: CI shows only the end of a long log.
  local names
  names=$(sed -n 's/^ *[0-9]*\/[0-9]* [^ ]* \/ \([^ ]*\) *\(FAIL\|TIMEOUT\).*/\1/p' "$out" | tr '\n' ' ')
  names=${names% }
  summary+=("$1/$2: $ok ok, $fail failed${names:+ ($names)}")
  rm -f "$out"
}

if build build; then
  run_suite build unit
  run_suite build integration
else
  summary+=("build: FAILED"); failed=$((failed + 1))
fi
# The sanitizer build checks the unit tests (the data path under a real EAL).
if build build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false; then
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 run_suite build-asan unit
else
  summary+=("sanitizer build: FAILED"); failed=$((failed + 1))
fi

# ThreadSanitizer on the connection state all workers share (tests/unit/shared_conn_test.cc: the
# tables from several threads at once). Only that test is built and run: DPDK's libraries are not
# instrumented, so TSan cannot see the handoffs inside them (rings, mbufs) and would report the
# data path's; the shared tables synchronise with std::atomic and RCU counters read with acquire
# (base/rcu_grace.h, which also says why DPDK's own rte_rcu_qsbr_check() is not used for that).
# -Wno-tsan: GCC warns that TSan does not model atomic_thread_fence, which the drop recorder's
# seqlock uses; that code is compiled into the library but not run by this test. Boost.Lockfree's
# freelist race is suppressed (tests/tsan_suppressions.txt says why).
if TARGETS=tests/unit_shared_conn build build-tsan -Dbuildtype=debugoptimized -Db_sanitize=thread \
     -Db_lundef=false -Dcpp_args=-Wno-tsan >/dev/null; then
  if TSAN_OPTIONS="halt_on_error=1:suppressions=$PWD/tests/tsan_suppressions.txt" \
       ./build-tsan/tests/unit_shared_conn >build-tsan/tsan.log 2>&1; then
    passed=$((passed + 1)); summary+=("tsan shared_conn: $(grep -o '[0-9]* tests* from [0-9]* test suites* ran' build-tsan/tsan.log), no race")
  else
    failed=$((failed + 1)); summary+=("tsan shared_conn: FAILED (build-tsan/tsan.log)"); tail -60 build-tsan/tsan.log
  fi
else
  summary+=("tsan build: FAILED"); failed=$((failed + 1))
fi

# libFuzzer on the parser and pipeline (clang, ASan + UBSan), seeded with the golden frames,
# for a bounded time. A crash, a sanitizer report or a lost mbuf fails it.
fuzz_seconds=${FUZZ_SECONDS:-60}
if CXX=clang++ TARGETS="tests/fuzz_pipeline tests/fuzz_seeds tests/fuzz_agent_objects" build build-fuzz -Dfuzz=true \
     -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false >/dev/null; then
  corpus=$(mktemp -d)
  if ./build-fuzz/tests/fuzz_seeds "$corpus" >/dev/null &&
     UBSAN_OPTIONS=halt_on_error=1 ./build-fuzz/tests/fuzz_pipeline -max_total_time="$fuzz_seconds" \
       -max_len=1600 "$corpus" >build-fuzz/fuzz.log 2>&1; then
    passed=$((passed + 1)); summary+=("fuzz: $(grep -o 'Done [0-9]* runs' build-fuzz/fuzz.log) in ${fuzz_seconds}s, no crash")
  else
    failed=$((failed + 1)); summary+=("fuzz: FAILED (build-fuzz/fuzz.log)"); tail -40 build-fuzz/fuzz.log
  fi
  rm -rf "$corpus"
  # podvs-agent's Service translation on JSON (15 s), from copies of tests/fuzz/agent_seeds.
  corpus=$(mktemp -d)
  cp tests/fuzz/agent_seeds/*.json "$corpus"/
  if UBSAN_OPTIONS=halt_on_error=1 ./build-fuzz/tests/fuzz_agent_objects -max_total_time=15 \
       -max_len=8192 "$corpus" >build-fuzz/fuzz-agent.log 2>&1; then
    passed=$((passed + 1)); summary+=("fuzz agent objects: $(grep -o 'Done [0-9]* runs' build-fuzz/fuzz-agent.log) in 15s, no crash")
  else
    failed=$((failed + 1)); summary+=("fuzz agent objects: FAILED (build-fuzz/fuzz-agent.log)"); tail -40 build-fuzz/fuzz-agent.log
  fi
  rm -rf "$corpus"
else
  summary+=("fuzz build: FAILED"); failed=$((failed + 1))
fi

printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
