#!/usr/bin/env bash
# One device call: issue 12's matmul sweep + their tests on real subgroup matrices, issue 13's
# missing figures (studio slider at 32K, 1B ttft), issue 16's capture self-test b.
set -u
OUT=${1:?out}
source .device/env.sh
SA="node .device/sa-studio.mjs"
LOG=$OUT/mid.log
step() { echo "=== $(date +%T) $*" | tee -a "$LOG"; }
step tests; (cd .device && timeout 150 node --test --test-reporter=spec tensorcore-matmul.test.mjs tensorcore-blocks.test.mjs 2>&1 | grep -v "^\s*$" | tail -60) >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step matmul sweep; timeout 100 $SA bench --matmul 4096 --sweep --repeats 20 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step torch; timeout 100 python3 .device/torch-yardsticks.py --S 32768 --d 64,128 --reps 5 --prefill 8192,16384,32768 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step studio 32K; timeout 90 $SA bench --studio --S 32768 --text public/texts/prose-long-alice-in-wonderland.txt --repeats 3 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step ttft 1b; timeout 150 $SA ttft --model random:1b --lengths 8192,16384,32768 --precision f16 --repeats 3 --json $OUT/ttft-1b.json >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step capture selftest b; timeout 200 python3 tools/capture/device_selftest.py --skip a --work /tmp/sa-capture-selftest >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step done
