#!/usr/bin/env bash
# Issue 13's figures on the H200 in one device call (docs/benchmarks.md, MODEL_CARD.md): the default
# model's per-head config tuned at 32K, the near-lossless check with passkeys 1K-32K, TTFT dense vs
# SampleAttention (default model and a random Llama-3.2-1B shape), the studio's slider move at 32K,
# and transformers' prefill of the same model beside them. Needs .device/ (shared/device/pack.sh +
# the sa-studio bundle, see docs/benchmarks.md). Usage: bash bench/device/long-context.sh $OUT
set -u
source bench/device/common.sh long-context "$@"
step tune; timeout 120 $SA tune --model default --text $TEXT --max-tokens 32768 --target-recall 0.95 --precision f16 --out $OUT/sampleattention-tuned.json >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
CFG=$OUT/sampleattention-tuned.json
[ -f "$CFG" ] || CFG=public/models/default/sampleattention-tuned.json
step ttft default; timeout 80 $SA ttft --model default --text $TEXT --lengths 8192,16384,32768 --config $CFG --precision f16 --repeats 5 --json $OUT/ttft-default.json >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step eval; timeout 120 $SA eval --model default --text $TEXT --max-tokens 32768 --config $CFG --precision f16 --passkey-lengths 1024,2048,4096,8192,16384,32768 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step studio; timeout 50 $SA bench --studio --S 32768 --repeats 3 >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step torch; timeout 30 python3 - >> "$LOG" 2>&1 <<'PY'
import statistics, torch
from transformers import AutoModelForCausalLM
m = AutoModelForCausalLM.from_pretrained('public/models/default', dtype=torch.float16, attn_implementation='sdpa').cuda().eval()
for S in (8192, 16384, 32768):
    x = torch.randint(1, 8192, (1, S), device='cuda')
    with torch.no_grad():
        for _ in range(2): m(input_ids=x, logits_to_keep=1)
        torch.cuda.synchronize(); ts = []
        for _ in range(5):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record(); m(input_ids=x, logits_to_keep=1); b.record(); torch.cuda.synchronize(); ts.append(a.elapsed_time(b))
    print(f'transformers fp16 SDPA prefill of the default model, S {S}: {statistics.median(ts):.2f} ms (median of 5)')
PY
echo "rc $?" >> "$LOG"
step ttft 1b; timeout 60 $SA ttft --model random:1b --lengths 8192,16384,32768 --precision f16 --repeats 3 --json $OUT/ttft-1b.json >> "$LOG" 2>&1; echo "rc $?" >> "$LOG"
step done
