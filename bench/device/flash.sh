#!/usr/bin/env bash
# The pipelined tensor-core attention kernel (gpu/tensorcore/flash.wgsl) on the H200 in one device
# call, torch beside it: the tensor-core tests on real subgroup matrices; dense / stages / sparse
# with the default kernel at 4K..64K (d 64) and every other shape at 32K; d 128 at 32K; torch SDPA
# and the 1B-shaped prefill (transformers) in the same call; then our 1B-shaped prefill, TTFT of the
# default model, the blocks variant on real heads and the studio's slider at 32K on the default
# kernel. Usage: bash bench/device/flash.sh $OUT
# QUICK=1: the tests and the 32K shapes only (a first check on the hardware).
# (The logs of 2026-12-02 ran it with --attend-kernel pipelined:NSGxBKT|staged; the staged kernel
# has since been deleted and the flag is --attend-shape NSGxBKT.)
set -u
source bench/device/common.sh flash "$@"
step tests; (cd .device && timeout 90 node --test --test-reporter=spec tensorcore-attention.test.mjs tensorcore-blocks.test.mjs tensorcore-matmul.test.mjs 2>&1 | grep -E "^(✔|✖|ℹ)|worst|skipped|Error|error" | head -90) >> "$LOG" 2>&1
if [ "${QUICK:-}" = 1 ]; then
  for K in 4x64 8x32 4x32; do
    step "d64 $K"; timeout 60 $SA bench --precision f16 --S 32768 --d 64 --repeats 5 --attend-shape $K >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  done
  step torch; timeout 60 python3 bench/torch-yardsticks.py --S 32768 --d 64,128 --reps 10 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  step done; exit 0
fi
step "d64 default"; timeout 60 $SA bench --precision f16 --S 4096,16384,32768,65536 --d 64 --repeats 5 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
for K in 4x32 4x64; do
  step "d64 $K"; timeout 30 $SA bench --precision f16 --S 32768 --d 64 --repeats 5 --attend-shape $K >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
done
for K in 8x32 4x32; do
  step "d128 $K"; timeout 40 $SA bench --precision f16 --S 32768 --d 128 --repeats 5 --attend-shape $K >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
done
step torch; timeout 90 python3 bench/torch-yardsticks.py --S 4096,16384,32768,65536 --d 64,128 --reps 10 --prefill 4096,16384,32768 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step prefill 1b; timeout 60 $SA bench --forward --shape 1b --precision f16 --S 4096,16384,32768 --repeats 3 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step ttft tokens; timeout 40 $SA ttft --model default --text $TEXT --lengths 16384,32768 --config public/models/default/sampleattention-tuned.json --precision f16 --repeats 5 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step ttft both; timeout 30 $SA ttft --model default --text $TEXT --lengths 32768 --config public/models/default/sampleattention-tuned-both.json --precision f16 --repeats 5 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step studio f16; timeout 40 $SA bench --studio --S 32768 --text $TEXT --precision f16 --repeats 3 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step capture 32K; timeout 25 $SA capture --model default --text $TEXT --max-tokens 32768 --out /tmp/cap32k.safetensors >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step real heads layer 3 f16; timeout 25 $SA bench --qk /tmp/cap32k.safetensors --layer 3 --variant blocks --precision f16 --repeats 5 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step done
