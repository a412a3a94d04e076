# Sourced by the packaging tests: named checks counted into the closing "N passed, M failed" line
# that scripts/test sums.
PASSED=0 FAILED=0
check() {  # check DESCRIPTION COMMAND...: run COMMAND, PASS/FAIL line with its output on failure
  local desc=$1 out; shift
  if out=$("$@" 2>&1); then
    PASSED=$((PASSED + 1)); echo "PASS $desc"
  else
    FAILED=$((FAILED + 1)); echo "FAIL $desc"; [ -z "$out" ] || sed 's/^/    /' <<<"$out" | head -n 40
  fi
}
add_counts() {  # add_counts FILE: add the last "N passed, M failed" line of another runner's output
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
  if [ -z "$line" ]; then FAILED=$((FAILED + 1)); echo "FAIL no summary line in $1"; return; fi
  PASSED=$((PASSED + $(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")))
  FAILED=$((FAILED + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
}
summary() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" = 0 ]; }
