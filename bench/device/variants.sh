#!/usr/bin/env bash
# Issue 14's figures on the H200 in one device call (docs/benchmarks.md, docs/tune-eval.md): the
# tensor-core tests on real subgroup matrices, the matmul sweep, the blocks variant beside tokens
# and dense (synthetic pattern at 16K/32K, f32 and f16; the default model's real heads at 32K),
# recall and density of both variants on the default model at 8K and 32K (tune --variant both),
# TTFT and the near-lossless check with that config, the studio's slider at 32K, and the rivals
# chart at 2048 tokens (CPU, in the background). Usage: bash bench/device/variants.sh $OUT
# QUICK=1: only the blocks kernels' tests, the blocks timings at 32K (synthetic, real heads of
# layer 3), ttft with the shipped both-variant config and the studio at 32K (a recheck after a
# kernel change).
set -u
source bench/device/common.sh variants "$@"
if [ "${QUICK:-}" = 1 ]; then
  step tests; (cd .device && timeout 120 node --test --test-reporter=spec tensorcore-blocks.test.mjs 2>&1 | grep -E "^(✔|✖|ℹ)|Error" | head -40) >> "$LOG" 2>&1
  step synthetic f16; timeout 60 $SA bench --variant blocks --S 32768 --d 64 --precision f16 --repeats 5 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  step capture 32K; timeout 60 $SA capture --model default --text $TEXT --max-tokens 32768 --out /tmp/cap32k.safetensors >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  for P in f32 f16; do step real heads layer 3 $P; timeout 60 $SA bench --qk /tmp/cap32k.safetensors --layer 3 --variant blocks --precision $P --repeats 5 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"; done
  step ttft both; timeout 90 $SA ttft --model default --text $TEXT --lengths 32768 --config public/models/default/sampleattention-tuned-both.json --precision f16 --repeats 5 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  for P in f32 f16; do step studio $P; timeout 90 $SA bench --studio --S 32768 --text $TEXT --precision $P --repeats 3 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"; done
  step done; exit 0
fi
( timeout 420 $SA rivals --model default --text public/texts/prose-nodejs-pull-requests.md --max-tokens 2048 --svg $OUT/rivals-prose-2048.svg --json $OUT/rivals-2048.json > $OUT/rivals.log 2>&1; echo "rc $?" >> $OUT/rivals.log ) &
step tests; (cd .device && timeout 150 node --test --test-reporter=spec tensorcore-matmul.test.mjs tensorcore-attention.test.mjs tensorcore-blocks.test.mjs 2>&1 | grep -E "^(✔|✖|ℹ)|skipped|Error|error" | head -60) >> "$LOG" 2>&1
step matmul sweep; timeout 60 $SA bench --matmul 4096 --sweep --repeats 20 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
for P in f32 f16; do
  step synthetic $P; timeout 120 $SA bench --variant blocks --S 16384,32768 --d 64 --precision $P --repeats 5 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
done
step capture 32K; timeout 60 $SA capture --model default --text $TEXT --max-tokens 32768 --out /tmp/cap32k.safetensors >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
for L in 1 3 6; do
  step real heads layer $L; timeout 60 $SA bench --qk /tmp/cap32k.safetensors --layer $L --variant blocks --precision f16 --repeats 5 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
done
for S in 8192 32768; do
  step tune both $S; timeout 150 $SA tune --model default --text $TEXT --max-tokens $S --variant both --target-recall 0.95 --precision f16 --out $OUT/tuned-both-$S.json >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
done
CFG=$OUT/tuned-both-32768.json
if [ -f "$CFG" ]; then
  step ttft both; timeout 90 $SA ttft --model default --text $TEXT --lengths 16384,32768 --config $CFG --precision f16 --repeats 5 --json $OUT/ttft-both.json >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  step ttft tokens; timeout 90 $SA ttft --model default --text $TEXT --lengths 32768 --config public/models/default/sampleattention-tuned.json --precision f16 --repeats 5 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  step eval both; timeout 120 $SA eval --model default --text $TEXT --max-tokens 32768 --config $CFG --precision f16 --passkey-lengths 4096,32768 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
fi
for P in f32 f16; do
  step studio $P; timeout 90 $SA bench --studio --S 32768 --text $TEXT --precision $P --repeats 3 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
done
step wait rivals; wait; cat $OUT/rivals.log >> "$LOG"
step done
