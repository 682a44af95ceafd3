#!/usr/bin/env bash
# How sparse can the default model's per-head config go at 32K within the budget (TTFT
# speedup against perplexity change)? Tune at lower recall targets on the first 32768 tokens of
# the Alice text, then for each config (the shipped one at 0.95 first): TTFT at 32768 (the same
# tokens) and dense vs sparse perplexity on the text's last 60,000 bytes (about 23K tokens the
# tuning never saw). The configs come back in $OUT. Usage: bash bench/device/sparser.sh $OUT
set -u
source bench/device/common.sh sparser "$@"
tail -c 60000 $TEXT > /tmp/alice-tail.txt
for R in 0.95 0.90 0.80; do
  CFG=public/models/default/sampleattention-tuned.json
  if [ $R != 0.95 ]; then
    CFG=$OUT/tuned-recall-$R.json
    step "tune $R"; timeout 100 $SA tune --model default --text $TEXT --max-tokens 32768 --target-recall $R --precision f16 --out $CFG >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  fi
  step "ttft $R"; timeout 40 $SA ttft --model default --text $TEXT --lengths 32768 --config $CFG --precision f16 --repeats 5 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
  step "eval held-out $R"; timeout 60 $SA eval --model default --text /tmp/alice-tail.txt --config $CFG --precision f16 --passkey-lengths none >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
done
step done
