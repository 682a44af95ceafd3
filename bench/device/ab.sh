#!/usr/bin/env bash
# A kernel change measured against the build before it, side by side in one device call: BASE
# (.device/sa-studio-base.mjs, the bundle of the commit before the change) and NEW
# (.device/sa-studio.mjs) alternate on each figure, so both see the same machine state.
# PART=1 (a first call): the tensor-core tests on real subgroup matrices (NEW), the synthetic
# pattern and torch; PART=2 (a second): real heads of the default model, its TTFT, the 1B-shaped
# prefill (NEW, transformers beside it) and the studio; PART=3: a short recheck (tests, the
# synthetic pattern, real heads of the default model at each kernel shape); PART=4: the default
# model's TTFT twice, interleaved, and the studio; PART=5: everything of one kernel change in one
# call (tests, synthetic d 64 and d 128, real heads, TTFT twice, the studio, the 1B-shaped
# prefill, the matmul sweep, torch) and what
# WebGPU's bounds checks cost (NEW with SA_STUDIO_DAWN_NO_ROBUSTNESS=1, attention and matmul).
# PART=6: a recheck after PART=5 (tests, both builds on the synthetic pattern, real heads, TTFT,
# the 1B prefill; the studio and the matmul sweep on NEW).
# PART=7: the matmul's block rule (tests, TTFT twice, the 1B prefill, the studio).
# PART=8: 16-byte-aligned matrix arrays (tests with and without WebGPU's bounds checks, both
# builds on the synthetic pattern and the default model, NEW without the checks, the matmul
# sweep twice to see whether its 128 x 256 block's time moves between runs, torch); its
# 32-rows-a-subgroup shapes (-r32) need commit 653b7bd.
# PART=9: the same with the column sums in 16-byte loads and the matmul's 128 x 256 block as its
# default (its log also times 16-key tiles on 8 and 16 subgroups, removed after it).
# PART=10: PART=9 again on the final build, with 4K, 16K and 64K beside 32K.
# PART=11: the matmul's block at BK 16 with two buffers (NEW: 128 x 256 x 16 as the default for
# K, N >= 1024, against BASE's 128 x 256 x 32 with one): matmul tests, sweeps, the 1B prefill.
# PART=12: the matmul's workgroup tiles blocked by subgroup, so each matrix load has constant
# offsets and strides (BASE: b592964): matmul tests, both builds' sweeps, the 1B prefill, TTFT.
# PART=13: the attention kernels' arrays blocked as the matmul's (BASE: 299cbc7): their tests,
# both builds on the synthetic pattern and the 1B prefill (short: little device time was left).
# Usage: PART=1..13 bash bench/device/ab.sh $OUT
set -u
source bench/device/common.sh ab${PART:-1} "$@"
BASE="node .device/sa-studio-base.mjs"
both() { # both LABEL TIMEOUT ARGS...: the same command on BASE, then NEW
  local label=$1 t=$2; shift 2
  for which in base new; do
    local cli=$SA; [ $which = base ] && cli=$BASE
    step "$label [$which]"; timeout "$t" $cli "$@" >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  done
}
ttft_twice() { # the default model's TTFT at 32K with the tuned config, two rounds, BASE and NEW interleaved
  for rep in 1 2; do
    both "ttft tokens, round $rep" 40 ttft --model default --text $TEXT --lengths 32768 --config public/models/default/sampleattention-tuned.json --precision f16 --repeats 5
  done
}
studio_new() { # a studio slider move at 32K on NEW
  step "studio f16 [new]"; timeout 40 $SA bench --studio --S 32768 --text $TEXT --precision f16 --repeats 3 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
}
model_ab() { # PART=5 and 6: the default model's real heads, TTFT twice, the studio, the 1B prefill
  step "capture 32K"; timeout 25 $SA capture --model default --text $TEXT --max-tokens 32768 --out /tmp/cap32k.safetensors >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  both "real heads L3 tokens + blocks" 40 bench --qk /tmp/cap32k.safetensors --layer 3 --variant blocks --precision f16 --repeats 5
  ttft_twice
  studio_new
  both "prefill 1b" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3
}
norobust() { # norobust LABEL TIMEOUT ARGS...: NEW without WebGPU's bounds checks
  local label=$1 t=$2; shift 2
  step "$label, robustness off [new]"; SA_STUDIO_DAWN_NO_ROBUSTNESS=1 timeout "$t" $SA "$@" >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
}
if [ "${PART:-1}" = 13 ]; then
  step tests; (cd .device && timeout 100 node --test --test-reporter=spec tensorcore-attention.test.mjs tensorcore-blocks.test.mjs 2>&1 | grep -E "^(✔|✖|ℹ)" | head -30) >> "$LOG" 2>&1
  both "synthetic d64" 40 bench --precision f16 --S 32768 --d 64 --repeats 7
  both "synthetic d128" 40 bench --precision f16 --S 32768 --d 128 --repeats 7
  both "prefill 1b" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3
  step done; exit 0
fi
if [ "${PART:-1}" = 12 ]; then
  step tests; (cd .device && timeout 100 node --test --test-reporter=spec tensorcore-matmul.test.mjs tensorcore-attention.test.mjs 2>&1 | grep -E "^(✔|✖|ℹ)|worst|skipped|Error|error" | head -80) >> "$LOG" 2>&1
  step "tests, robustness off"; (cd .device && SA_STUDIO_DAWN_NO_ROBUSTNESS=1 timeout 100 node --test --test-reporter=spec tensorcore-matmul.test.mjs 2>&1 | grep -E "^(✔|✖|ℹ)" | head -20) >> "$LOG" 2>&1
  for rep in 1 2; do both "matmul sweep $rep" 60 bench --matmul 4096 --sweep --repeats 20; done
  norobust "matmul sweep" 60 bench --matmul 4096 --sweep --repeats 20
  both "prefill 1b" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3
  both "prefill 1b, again" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3
  norobust "prefill 1b" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3
  both "ttft tokens" 40 ttft --model default --text $TEXT --lengths 32768 --config public/models/default/sampleattention-tuned.json --precision f16 --repeats 5
  step done; exit 0
fi
if [ "${PART:-1}" = 11 ]; then
  step tests; (cd .device && timeout 100 node --test --test-reporter=spec tensorcore-matmul.test.mjs 2>&1 | grep -E "^(✔|✖|ℹ)|worst|skipped|Error|error" | head -60) >> "$LOG" 2>&1
  step "tests, robustness off"; (cd .device && SA_STUDIO_DAWN_NO_ROBUSTNESS=1 timeout 100 node --test --test-reporter=spec tensorcore-matmul.test.mjs 2>&1 | grep -E "^(✔|✖|ℹ)" | head -20) >> "$LOG" 2>&1
  for rep in 1 2; do step "matmul sweep $rep [new]"; timeout 60 $SA bench --matmul 4096 --sweep --repeats 20 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"; done
  norobust "matmul sweep" 60 bench --matmul 4096 --sweep --repeats 20
  both "prefill 1b" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3
  both "prefill 1b, again" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3
  step done; exit 0
fi
if [ "${PART:-1}" = 9 ] || [ "${PART:-1}" = 10 ]; then # PART=10: PART=9 on the final build, with 4K-64K on NEW
  T="tensorcore-attention.test.mjs tensorcore-blocks.test.mjs tensorcore-matmul.test.mjs"
  step tests; (cd .device && timeout 150 node --test --test-reporter=spec $T 2>&1 | grep -E "^(✔|✖|ℹ)|worst|skipped|Error|error" | head -140) >> "$LOG" 2>&1
  step "tests, robustness off"; (cd .device && SA_STUDIO_DAWN_NO_ROBUSTNESS=1 timeout 150 node --test --test-reporter=spec $T 2>&1 | grep -E "^(✔|✖|ℹ)" | head -40) >> "$LOG" 2>&1
  both "synthetic d64" 60 bench --precision f16 --S 32768 --d 64 --repeats 7
  both "synthetic d128" 40 bench --precision f16 --S 32768 --d 128 --repeats 7
  norobust "synthetic d64" 40 bench --precision f16 --S 32768 --d 64 --repeats 7
  if [ "$PART" = 10 ]; then
    norobust "synthetic d128" 40 bench --precision f16 --S 32768 --d 128 --repeats 7
    step "synthetic d64 4K-64K [new]"; timeout 60 $SA bench --precision f16 --S 4096,16384,65536 --d 64 --repeats 7 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  fi
  model_ab # (captures /tmp/cap32k.safetensors)
  norobust "prefill 1b" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3
  for rep in 1 2; do step "matmul sweep $rep [new]"; timeout 60 $SA bench --matmul 4096 --sweep --repeats 20 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"; done
  TS=32768; [ "$PART" = 10 ] && TS=4096,16384,32768,65536
  step "torch 1b prefill"; timeout 90 python3 bench/torch-yardsticks.py --S $TS --d 64,128 --reps 10 --prefill 32768 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  step done; exit 0
fi
if [ "${PART:-1}" = 8 ]; then
  T="tensorcore-attention.test.mjs tensorcore-blocks.test.mjs tensorcore-matmul.test.mjs"
  step tests; (cd .device && timeout 150 node --test --test-reporter=spec $T 2>&1 | grep -E "^(✔|✖|ℹ)|worst|skipped|Error|error" | head -120) >> "$LOG" 2>&1
  step "tests, robustness off"; (cd .device && SA_STUDIO_DAWN_NO_ROBUSTNESS=1 timeout 150 node --test --test-reporter=spec $T 2>&1 | grep -E "^(✔|✖|ℹ)|worst|skipped|Error|error" | head -120) >> "$LOG" 2>&1
  both "synthetic d64" 60 bench --precision f16 --S 32768 --d 64 --repeats 7
  both "synthetic d128" 40 bench --precision f16 --S 32768 --d 128 --repeats 7
  norobust "synthetic d64" 40 bench --precision f16 --S 32768 --d 64 --repeats 7
  norobust "synthetic d128" 40 bench --precision f16 --S 32768 --d 128 --repeats 7
  for K in 4x32-r32 4x32x2-r32 2x32-r32; do # 32 query rows a subgroup
    step "synthetic d64 $K [new]"; timeout 40 $SA bench --precision f16 --S 32768 --d 64 --repeats 7 --attend-shape $K >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  done
  step "synthetic d128 4x32-r32 [new]"; timeout 40 $SA bench --precision f16 --S 32768 --d 128 --repeats 7 --attend-shape 4x32-r32 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  model_ab # (captures /tmp/cap32k.safetensors)
  for K in 4x32-r32 2x32-r32; do
    step "real heads L3 $K [new]"; timeout 40 $SA bench --qk /tmp/cap32k.safetensors --layer 3 --precision f16 --repeats 5 --attend-shape $K >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  done
  norobust "prefill 1b" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3
  for rep in 1 2; do step "matmul sweep $rep [new]"; timeout 60 $SA bench --matmul 4096 --sweep --repeats 20 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"; done
  norobust "matmul sweep" 60 bench --matmul 4096 --sweep --repeats 20
  step torch; timeout 60 python3 bench/torch-yardsticks.py --S 32768 --d 64,128 --reps 10 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  step done; exit 0
fi
if [ "${PART:-1}" = 7 ]; then # the matmul's large block only for K, N >= 1024: its tests, TTFT, the 1B prefill
  step tests; (cd .device && timeout 100 node --test --test-reporter=spec tensorcore-matmul.test.mjs 2>&1 | grep -E "^(✔|✖|ℹ)|worst|skipped|Error|error" | head -40) >> "$LOG" 2>&1
  ttft_twice
  both "prefill 1b" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3
  studio_new
  step done; exit 0
fi
if [ "${PART:-1}" = 6 ]; then # a recheck after PART=5: tests, both builds on everything that changed
  step tests; (cd .device && timeout 120 node --test --test-reporter=spec tensorcore-attention.test.mjs tensorcore-blocks.test.mjs 2>&1 | grep -E "^(✔|✖|ℹ)|worst|skipped|Error|error" | head -90) >> "$LOG" 2>&1
  both "synthetic d64" 60 bench --precision f16 --S 32768 --d 64 --repeats 7
  both "synthetic d128" 40 bench --precision f16 --S 32768 --d 128 --repeats 7
  model_ab
  step "matmul sweep [new]"; timeout 60 $SA bench --matmul 4096 --sweep --repeats 20 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  step done; exit 0
fi
if [ "${PART:-1}" = 5 ]; then
  step tests; (cd .device && timeout 150 node --test --test-reporter=spec tensorcore-attention.test.mjs tensorcore-blocks.test.mjs tensorcore-matmul.test.mjs 2>&1 | grep -E "^(✔|✖|ℹ)|worst|skipped|Error|error" | head -120) >> "$LOG" 2>&1
  both "synthetic d64" 60 bench --precision f16 --S 32768,65536 --d 64 --repeats 7
  both "synthetic d128" 40 bench --precision f16 --S 32768 --d 128 --repeats 7
  model_ab
  step "torch 1b prefill"; timeout 40 python3 bench/torch-yardsticks.py --S 32768 --d 64 --reps 5 --prefill 32768 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  step "synthetic d64 32K, robustness off [new]"; SA_STUDIO_DAWN_NO_ROBUSTNESS=1 timeout 40 $SA bench --precision f16 --S 32768 --d 64 --repeats 7 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  step "matmul sweep [new]"; timeout 60 $SA bench --matmul 4096 --sweep --repeats 20 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  step "matmul sweep, robustness off [new]"; SA_STUDIO_DAWN_NO_ROBUSTNESS=1 timeout 60 $SA bench --matmul 4096 --sweep --repeats 20 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  step torch; timeout 60 python3 bench/torch-yardsticks.py --S 32768,65536 --d 64,128 --reps 10 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  step done; exit 0
fi
if [ "${PART:-1}" = 4 ]; then # the default model's TTFT, twice each, interleaved; the studio
  ttft_twice
  studio_new
  step done; exit 0
fi
if [ "${PART:-1}" = 3 ]; then
  step tests; (cd .device && timeout 100 node --test --test-reporter=spec tensorcore-attention.test.mjs tensorcore-blocks.test.mjs 2>&1 | grep -E "^(✔|✖|ℹ)|worst|skipped|Error|error" | head -60) >> "$LOG" 2>&1
  both "synthetic d64" 60 bench --precision f16 --S 32768,65536 --d 64 --repeats 7
  both "synthetic d128" 40 bench --precision f16 --S 32768 --d 128 --repeats 7
  step "capture 32K"; timeout 25 $SA capture --model default --text $TEXT --max-tokens 32768 --out /tmp/cap32k.safetensors >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  for K in default 4x32 4x64; do # (a shape given applies to the column sums too where it fits)
    F=""; [ $K != default ] && F="--attend-shape $K"
    step "real heads L3 d32 $K [new]"; timeout 30 $SA bench --qk /tmp/cap32k.safetensors --layer 3 --precision f16 --repeats 5 $F >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  done
  step done; exit 0
fi
if [ "${PART:-1}" = 1 ]; then
step tests; (cd .device && timeout 120 node --test --test-reporter=spec tensorcore-attention.test.mjs tensorcore-blocks.test.mjs tensorcore-matmul.test.mjs 2>&1 | grep -E "^(✔|✖|ℹ)|worst|skipped|Error|error" | head -90) >> "$LOG" 2>&1
both "synthetic d64" 60 bench --precision f16 --S 32768,65536 --d 64 --repeats 5
step "synthetic d64, row pass unsplit [new]"; timeout 30 $SA bench --precision f16 --S 32768 --d 64 --repeats 5 --row-splits 1 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
both "synthetic d128" 40 bench --precision f16 --S 32768 --d 128 --repeats 5
step torch; timeout 60 python3 bench/torch-yardsticks.py --S 32768,65536 --d 64,128 --reps 10 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step done; exit 0
fi
both "synthetic d64 again" 40 bench --precision f16 --S 32768 --d 64 --repeats 7
step "capture 32K"; timeout 25 $SA capture --model default --text $TEXT --max-tokens 32768 --out /tmp/cap32k.safetensors >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
both "real heads L3 tokens + blocks" 40 bench --qk /tmp/cap32k.safetensors --layer 3 --variant blocks --precision f16 --repeats 5
both "ttft tokens" 40 ttft --model default --text $TEXT --lengths 32768 --config public/models/default/sampleattention-tuned.json --precision f16 --repeats 5
both "ttft both" 40 ttft --model default --text $TEXT --lengths 32768 --config public/models/default/sampleattention-tuned-both.json --precision f16 --repeats 5
step "prefill 1b [new]"; timeout 60 $SA bench --forward --shape 1b --precision f16 --S 32768 --repeats 3 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step "torch 1b prefill"; timeout 40 python3 bench/torch-yardsticks.py --S 32768 --d 64 --reps 5 --prefill 32768 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
studio_new
step done
