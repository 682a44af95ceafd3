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
# PART=14: two barrier points a tile in the attention kernels (K_{t+1} and V_t written at B1, the
# rescale flag's uniform load as the second; BASE: dc27caf): their tests with and without the
# bounds checks, both builds on the synthetic pattern at 4K to 64K, real heads, the 1B prefill,
# TTFT, the matmul sweep and torch.
# PART=15: where the attention kernel's time goes, from builds not committed: probe1 (the softmax
# replaced by a constant P), probe2 (half of P V's products), probe3 (no Q K^T products), beside
# NEW at d 64 and d 128; cs (column sums reading K from sK at each use where more than 8 K
# matrices would stay in registers) with its attention tests; BASE and NEW again at 16K and 32K.
# PART=16: what reading K / V costs: probe4 (K / V chunks read as 16 bytes of storage, the size
# of f16 K / V, values meaningless), probe5 (no K / V reads from storage), beside NEW.
# PART=17: K and V given to the tensor-core attention passes as f16 (kvHalves; BASE: 2e8fcb6):
# their tests with and without the bounds checks, both builds on the synthetic pattern at 4K to
# 64K, real heads, the 1B prefill, TTFT twice, the studio and torch.
# PART=18: q given as f16 to stage 1 and the sparse pass, and the sparse pass's full tiles
# skipping the mask (BASE: 12450de): tests with and without the bounds checks, both builds on the
# synthetic pattern (twice at 32K), real heads, TTFT twice, the 1B prefill, the matmul sweep.
# PART=19: stage 2 on scores held in registers, up to 1024 threads a head (BASE: 4d32270): the
# tensor-core tests and the stage tests, both builds on the synthetic pattern twice, where the
# sparse pass's time goes (probes p1: band tiles only; p2: stripe keys contiguous, no gather; p3:
# no mask on any tile), column sums at 128 x 32 (cs8) and 64 x 64 (cs64), builds not
# committed, timings only, and torch (short: 418 s of device
# time were left).
# PART=20: the sparse pass's keys from a ring of four tiles in workgroup memory, three ahead
# (BASE: adcd1ae): the tensor-core tests and the stage tests, both builds on the synthetic pattern
# three times, interleaved, and torch.
# PART=21: where stage 1's column sums spend their time (d 128: 2.56 ms, three times d 64's 0.83):
# builds not committed, timings only: cq (sampled q rows read as if contiguous: no read of the row
# list before each q load), noq (no q read from storage), nosum (no exp sums over the scores).
# (Refused: no machine was free.)
# PART=22: column sums with the block after next read into registers before the sums, its row
# indices a block earlier (BASE: 386376a): the tensor-core tests and the stage tests, both builds
# on the synthetic pattern twice, and PART=21's probes (on BASE) between the rounds.
# PART=23: the matmul with x given as f16 (the sweep's "x f16" rows) and the column sums on real
# heads (BASE: 386376a): all tensor-core tests and the stage tests, the matmul sweep, real heads of
# the default model, its TTFT twice, and torch.
# PART=24: the forward pass's matmuls on f16 x (BASE: 386376a): perplexity of the default model
# at f16 on both builds (the same roundings: equal up to summation order), the 1B-shaped
# prefill, TTFT, and transformers beside them.
# Usage: PART=1..24 bash bench/device/ab.sh $OUT
set -u
source bench/device/common.sh ab${PART:-1} "$@"
BASE="node .device/sa-studio-base.mjs"
PART=${PART:-1}
ALL_TC="tensorcore-attention.test.mjs tensorcore-blocks.test.mjs tensorcore-matmul.test.mjs"
ATT_TC="tensorcore-attention.test.mjs tensorcore-blocks.test.mjs"
new() { # new LABEL TIMEOUT ARGS...: NEW alone
  local label=$1 t=$2; shift 2
  step "$label [new]"; timeout "$t" $SA "$@" >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
}
both() { # both LABEL TIMEOUT ARGS...: the same command on BASE, then NEW
  local label=$1 t=$2; shift 2
  for which in base new; do
    local cli=$SA; [ $which = base ] && cli=$BASE
    step "$label [$which]"; timeout "$t" $cli "$@" >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  done
}
norobust() { # norobust LABEL TIMEOUT ARGS...: NEW without WebGPU's bounds checks
  local label=$1 t=$2; shift 2
  step "$label, robustness off [new]"; SA_STUDIO_DAWN_NO_ROBUSTNESS=1 timeout "$t" $SA "$@" >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
}
tc_tests() { # tc_tests LABEL TIMEOUT LINES FILES...: NEW's bundled tensor-core tests (checks off when LABEL names it)
  local label=$1 t=$2 n=$3; shift 3
  local env=""; case "$label" in *"robustness off"*) env="SA_STUDIO_DAWN_NO_ROBUSTNESS=1";; esac
  step "$label"; (cd .device && env $env timeout "$t" node --test --test-reporter=spec "$@" 2>&1 | grep -E "^(✔|✖|ℹ)|worst|skipped|Error|error" | head -"$n") >> "$LOG" 2>&1
}
torch() { # torch LABEL TIMEOUT ARGS...: bench/torch-yardsticks.py
  local label=$1 t=$2; shift 2
  step "$label"; timeout "$t" python3 bench/torch-yardsticks.py "$@" >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
}
variant() { # variant NAME LABEL TIMEOUT ARGS...: a build not committed, .device/sa-studio-NAME.mjs
  local name=$1 label=$2 t=$3; shift 3
  step "$label [$name]"; timeout "$t" node .device/sa-studio-$name.mjs "$@" >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
}
capture32k() { new "capture 32K" 25 capture --model default --text $TEXT --max-tokens 32768 --out /tmp/cap32k.safetensors; }
synthetic() { # synthetic REPEATS [S64]: both builds at d 64 (S64, default 32768) and d 128, 32K
  both "synthetic d64" 60 bench --precision f16 --S "${2:-32768}" --d 64 --repeats "$1"
  both "synthetic d128" 40 bench --precision f16 --S 32768 --d 128 --repeats "$1"
}
prefill() { both "prefill 1b$1" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3; }
sweep() { new "matmul sweep$1" 60 bench --matmul 4096 --sweep --repeats 20; }
ttft() { both "ttft $1" 40 ttft --model default --text $TEXT --lengths 32768 --config "$2" --precision f16 --repeats 5; }
TUNED=public/models/default/sampleattention-tuned.json
ttft_twice() { # the default model's TTFT at 32K with the tuned config, two rounds, BASE and NEW interleaved
  for rep in 1 2; do ttft "tokens, round $rep" $TUNED; done
}
studio_new() { new "studio f16" 40 bench --studio --S 32768 --text $TEXT --precision f16 --repeats 3; }
real_heads() { both "real heads L3 tokens + blocks" 40 bench --qk /tmp/cap32k.safetensors --layer 3 --variant blocks --precision f16 --repeats 5; }
model_ab() { # PART=5, 6, 8, 9, 10: the default model's real heads, TTFT twice, the studio, the 1B prefill
  capture32k; real_heads; ttft_twice; studio_new; prefill ""
}
case "$PART" in
24)
  both "perplexity f16" 60 perplexity --model default --precision f16 --text $TEXT --max-tokens 4096
  prefill ""
  ttft "tokens" $TUNED
  prefill ", again"
  torch "torch 1b prefill" 120 --S 32768 --d 64 --reps 5 --prefill 32768
  ;;
23)
  tc_tests tests 200 100 $ALL_TC sample-stages.test.mjs sample-stage2-ties.test.mjs
  sweep ""
  capture32k; real_heads
  ttft_twice
  sweep ", again"
  torch "torch" 60 --S 32768 --d 64 --reps 10
  ;;
22)
  tc_tests tests 150 80 $ATT_TC sample-stages.test.mjs sample-stage2-ties.test.mjs
  both "synthetic d64 + d128, round 1" 60 bench --precision f16 --S 32768 --d 64,128 --repeats 7
  for V in cq noq nosum; do variant $V "synthetic d64 + d128" 60 bench --precision f16 --S 32768 --d 64,128 --repeats 7; done
  both "synthetic d64 + d128, round 2" 60 bench --precision f16 --S 32768 --d 64,128 --repeats 7
  both "synthetic d64 at 64K" 60 bench --precision f16 --S 65536 --d 64 --repeats 5
  ;;
21)
  for rep in 1 2; do
    new "synthetic d64 + d128, round $rep" 60 bench --precision f16 --S 32768 --d 64,128 --repeats 7
    for V in cq noq nosum; do variant $V "synthetic d64 + d128, round $rep" 60 bench --precision f16 --S 32768 --d 64,128 --repeats 7; done
  done
  ;;
20)
  tc_tests tests 150 80 $ATT_TC sample-stages.test.mjs sample-stage2-ties.test.mjs
  for rep in 1 2 3; do both "synthetic d64 + d128, round $rep" 60 bench --precision f16 --S 32768 --d 64,128 --repeats 7; done
  both "synthetic d64 at 64K" 60 bench --precision f16 --S 65536 --d 64 --repeats 5
  torch "torch" 90 --S 32768,65536 --d 64,128 --reps 10
  ;;
19)
  tc_tests tests 150 80 $ATT_TC sample-stages.test.mjs sample-stage2-ties.test.mjs
  both "synthetic d64 + d128, round 1" 60 bench --precision f16 --S 32768 --d 64,128 --repeats 7
  for V in p1 p2 p3 cs8 cs64; do variant $V "synthetic d64 + d128" 60 bench --precision f16 --S 32768 --d 64,128 --repeats 7; done
  both "synthetic d64 + d128, round 2" 60 bench --precision f16 --S 32768 --d 64,128 --repeats 7
  torch "torch" 90 --S 32768 --d 64,128 --reps 10
  ;;
18)
  tc_tests tests 150 80 $ATT_TC
  tc_tests "tests, robustness off" 150 40 tensorcore-attention.test.mjs
  synthetic 7 4096,16384,32768,65536
  both "synthetic d64 + d128, again" 60 bench --precision f16 --S 32768 --d 64,128 --repeats 7
  capture32k; real_heads
  ttft_twice
  prefill ""
  sweep ""
  ;;
17)
  tc_tests tests 150 80 $ATT_TC
  tc_tests "tests, robustness off" 150 40 tensorcore-attention.test.mjs
  synthetic 7 4096,16384,32768,65536
  capture32k; real_heads
  prefill ""
  ttft_twice
  studio_new
  torch "torch 1b prefill" 120 --S 4096,16384,32768,65536 --d 64,128 --reps 10 --prefill 32768
  ;;
16)
  for rep in 1 2; do
    new "synthetic d64 + d128, round $rep" 60 bench --precision f16 --S 32768 --d 64,128 --repeats 7
    for V in probe4 probe5; do variant $V "synthetic d64 + d128, round $rep" 60 bench --precision f16 --S 32768 --d 64,128 --repeats 7; done
  done
  ;;
15)
  synthetic 7 16384,32768
  for rep in 1 2; do
    for V in probe1 probe2 probe3; do
      variant $V "synthetic d64, round $rep" 40 bench --precision f16 --S 32768 --d 64 --repeats 7
      variant $V "synthetic d128, round $rep" 40 bench --precision f16 --S 32768 --d 128 --repeats 7
    done
    new "synthetic d64 + d128, round $rep" 60 bench --precision f16 --S 32768 --d 64,128 --repeats 7
  done
  tc_tests "tests [cs]" 150 60 tensorcore-attention-cs.test.mjs
  for rep in 1 2; do
    variant cs "synthetic d128, round $rep" 40 bench --precision f16 --S 32768 --d 128 --repeats 7
    new "synthetic d128, round $rep" 40 bench --precision f16 --S 32768 --d 128 --repeats 7
  done
  variant cs "synthetic d64" 40 bench --precision f16 --S 32768 --d 64 --repeats 7
  ;;
14)
  tc_tests tests 150 80 $ATT_TC
  tc_tests "tests, robustness off" 150 40 $ATT_TC
  synthetic 7 4096,16384,32768,65536
  for K in 4x32 4x64; do new "synthetic d64 $K" 40 bench --precision f16 --S 32768 --d 64 --repeats 7 --attend-shape $K; done
  capture32k; real_heads
  prefill ""
  ttft "tokens" $TUNED
  sweep ""
  torch "torch 1b prefill" 120 --S 4096,16384,32768,65536 --d 64,128 --reps 10 --prefill 32768
  ;;
13)
  tc_tests tests 100 30 $ATT_TC
  synthetic 7
  prefill ""
  ;;
12)
  tc_tests tests 100 80 tensorcore-matmul.test.mjs tensorcore-attention.test.mjs
  tc_tests "tests, robustness off" 100 20 tensorcore-matmul.test.mjs
  for rep in 1 2; do both "matmul sweep $rep" 60 bench --matmul 4096 --sweep --repeats 20; done
  norobust "matmul sweep" 60 bench --matmul 4096 --sweep --repeats 20
  prefill ""; prefill ", again"
  norobust "prefill 1b" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3
  ttft "tokens" $TUNED
  ;;
11)
  tc_tests tests 100 60 tensorcore-matmul.test.mjs
  tc_tests "tests, robustness off" 100 20 tensorcore-matmul.test.mjs
  for rep in 1 2; do sweep " $rep"; done
  norobust "matmul sweep" 60 bench --matmul 4096 --sweep --repeats 20
  prefill ""; prefill ", again"
  ;;
9|10) # PART=10: PART=9 on the final build, with 4K-64K on NEW
  tc_tests tests 150 140 $ALL_TC
  tc_tests "tests, robustness off" 150 40 $ALL_TC
  synthetic 7
  norobust "synthetic d64" 40 bench --precision f16 --S 32768 --d 64 --repeats 7
  if [ "$PART" = 10 ]; then
    norobust "synthetic d128" 40 bench --precision f16 --S 32768 --d 128 --repeats 7
    new "synthetic d64 4K-64K" 60 bench --precision f16 --S 4096,16384,65536 --d 64 --repeats 7
  fi
  model_ab # (captures /tmp/cap32k.safetensors)
  norobust "prefill 1b" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3
  for rep in 1 2; do sweep " $rep"; done
  TS=32768; [ "$PART" = 10 ] && TS=4096,16384,32768,65536
  torch "torch 1b prefill" 90 --S $TS --d 64,128 --reps 10 --prefill 32768
  ;;
8) # (its 32-rows-a-subgroup shapes, -r32, need commit 653b7bd)
  tc_tests tests 150 120 $ALL_TC
  tc_tests "tests, robustness off" 150 120 $ALL_TC
  synthetic 7
  norobust "synthetic d64" 40 bench --precision f16 --S 32768 --d 64 --repeats 7
  norobust "synthetic d128" 40 bench --precision f16 --S 32768 --d 128 --repeats 7
  for K in 4x32-r32 4x32x2-r32 2x32-r32; do new "synthetic d64 $K" 40 bench --precision f16 --S 32768 --d 64 --repeats 7 --attend-shape $K; done
  new "synthetic d128 4x32-r32" 40 bench --precision f16 --S 32768 --d 128 --repeats 7 --attend-shape 4x32-r32
  model_ab # (captures /tmp/cap32k.safetensors)
  for K in 4x32-r32 2x32-r32; do new "real heads L3 $K" 40 bench --qk /tmp/cap32k.safetensors --layer 3 --precision f16 --repeats 5 --attend-shape $K; done
  norobust "prefill 1b" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3
  for rep in 1 2; do sweep " $rep"; done
  norobust "matmul sweep" 60 bench --matmul 4096 --sweep --repeats 20
  torch torch 60 --S 32768 --d 64,128 --reps 10
  ;;
7) # the matmul's large block only for K, N >= 1024: its tests, TTFT, the 1B prefill
  tc_tests tests 100 40 tensorcore-matmul.test.mjs
  ttft_twice; prefill ""; studio_new
  ;;
6) # a recheck after PART=5: tests, both builds on everything that changed
  tc_tests tests 120 90 $ATT_TC
  synthetic 7
  model_ab
  sweep ""
  ;;
5)
  tc_tests tests 150 120 $ALL_TC
  synthetic 7 32768,65536
  model_ab
  torch "torch 1b prefill" 40 --S 32768 --d 64 --reps 5 --prefill 32768
  norobust "synthetic d64 32K" 40 bench --precision f16 --S 32768 --d 64 --repeats 7
  sweep ""
  norobust "matmul sweep" 60 bench --matmul 4096 --sweep --repeats 20
  torch torch 60 --S 32768,65536 --d 64,128 --reps 10
  ;;
4) # the default model's TTFT, twice each, interleaved; the studio
  ttft_twice; studio_new
  ;;
3)
  tc_tests tests 100 60 $ATT_TC
  synthetic 7 32768,65536
  capture32k
  for K in default 4x32 4x64; do # (a shape given applies to the column sums too where it fits)
    F=""; [ $K != default ] && F="--attend-shape $K"
    new "real heads L3 d32 $K" 30 bench --qk /tmp/cap32k.safetensors --layer 3 --precision f16 --repeats 5 $F
  done
  ;;
1)
  tc_tests tests 120 90 $ALL_TC
  both "synthetic d64" 60 bench --precision f16 --S 32768,65536 --d 64 --repeats 5
  new "synthetic d64, row pass unsplit" 30 bench --precision f16 --S 32768 --d 64 --repeats 5 --row-splits 1
  both "synthetic d128" 40 bench --precision f16 --S 32768 --d 128 --repeats 5
  torch torch 60 --S 32768,65536 --d 64,128 --reps 10
  ;;
*) # PART=2
  both "synthetic d64 again" 40 bench --precision f16 --S 32768 --d 64 --repeats 7
  capture32k; real_heads
  ttft "tokens" $TUNED
  ttft "both" public/models/default/sampleattention-tuned-both.json
  new "prefill 1b" 60 bench --forward --shape 1b --precision f16 --S 32768 --repeats 3
  torch "torch 1b prefill" 40 --S 32768 --d 64 --reps 5 --prefill 32768
  studio_new
  ;;
esac
step done
