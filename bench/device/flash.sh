#!/usr/bin/env bash
# The pipelined tensor-core attention kernel (gpu/tensorcore/flash.wgsl) on the H200 in one device
# call, torch beside it: the tensor-core tests on real subgroup matrices, then dense / stages /
# sparse for every kernel shape at 4K..64K (d 64) and 32K (d 128), torch SDPA and the 1B-shaped
# prefill in the same call. Usage: bash bench/device/flash.sh $OUT
# QUICK=1: the tests and the 32K shapes only (a first check on the hardware).
# Then (not QUICK): the 1B-shaped prefill, TTFT of the default model, the blocks variant on real
# heads and the studio's slider at 32K, all on the new default kernel.
set -u
OUT=${1:?output folder}
source .device/env.sh
SA="node .device/sa-studio.mjs"
TEXT=public/texts/prose-long-alice-in-wonderland.txt
LOG=$OUT/flash.log
step() { echo "=== $(date +%T) $*" >> "$LOG"; }
step tests; (cd .device && timeout 150 node --test --test-reporter=spec tensorcore-attention.test.mjs tensorcore-blocks.test.mjs tensorcore-matmul.test.mjs 2>&1 | grep -E "^(✔|✖|ℹ)|worst|skipped|Error|error" | head -80) >> "$LOG" 2>&1
SIZES=${SIZES:-4096,16384,32768,65536}
[ "${QUICK:-}" = 1 ] && SIZES=32768
for K in pipelined pipelined:4x64 pipelined:8x32 pipelined:4x32 staged; do
  step "dense+sparse d64 $K"; timeout 120 $SA bench --precision f16 --S $SIZES --d 64 --repeats 5 --attend-kernel $K >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
done
for K in pipelined pipelined:8x32 pipelined:4x32 staged; do
  step "dense+sparse d128 $K"; timeout 90 $SA bench --precision f16 --S 32768 --d 128 --repeats 5 --attend-kernel $K >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
done
step torch; timeout 120 python3 bench/torch-yardsticks.py --S $SIZES --d 64,128 --reps 10 $([ "${QUICK:-}" = 1 ] || echo --prefill 4096,16384,32768) >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
if [ "${QUICK:-}" = 1 ]; then step done; exit 0; fi
step prefill 1b; timeout 150 $SA bench --forward --shape 1b --precision f16 --S 4096,16384,32768 --repeats 3 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step ttft tokens; timeout 90 $SA ttft --model default --text $TEXT --lengths 16384,32768 --config public/models/default/sampleattention-tuned.json --precision f16 --repeats 5 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step ttft both; timeout 90 $SA ttft --model default --text $TEXT --lengths 32768 --config public/models/default/sampleattention-tuned-both.json --precision f16 --repeats 5 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step capture 32K; timeout 60 $SA capture --model default --text $TEXT --max-tokens 32768 --out /tmp/cap32k.safetensors >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step real heads layer 3 f16; timeout 60 $SA bench --qk /tmp/cap32k.safetensors --layer 3 --variant blocks --precision f16 --repeats 5 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step studio f16; timeout 90 $SA bench --studio --S 32768 --text $TEXT --precision f16 --repeats 3 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step done
