#!/usr/bin/env bash
# tools/capture's self-test on a CUDA machine (about 3 minutes on one H200), from the repository root:
#   bash tools/capture/device-selftest.sh [REF.safetensors]
# Without REF it first writes the reference with the studio's own CLI (needs Node and the
# project's dependencies: .device/sa-studio.mjs where the device is set up, else bin/sa-studio.mjs):
#   sa-studio capture --model default --text public/texts/prose-nodejs-pull-requests.md --max-tokens 2048 --out REF
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
WORK=${SA_CAPTURE_WORK:-/tmp/sa-capture-selftest}
mkdir -p "$WORK"
REF=${1:-}
if [ -z "$REF" ]; then
  REF="$WORK/sa-studio-default-2048.safetensors"
  if [ -f .device/env.sh ]; then set +u; source .device/env.sh; set -u; fi
  CLI=bin/sa-studio.mjs
  if [ -f .device/sa-studio.mjs ]; then CLI=.device/sa-studio.mjs; fi
  echo "$ node $CLI capture --model default --text public/texts/prose-nodejs-pull-requests.md --max-tokens 2048 --out $REF"
  t0=$(date +%s)
  if node "$CLI" capture --model default --text public/texts/prose-nodejs-pull-requests.md --max-tokens 2048 --out "$REF"; then
    echo "sa-studio capture took $(( $(date +%s) - t0 )) s"
  else
    echo "FAIL sa-studio capture (test a will fail for want of the reference; test b still runs)"
  fi
fi
python3 tools/capture/device_selftest.py --ref "$REF" --work "$WORK"
