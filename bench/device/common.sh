# What the device scripts start with: the output folder, Node and dawn.node on PATH
# (.device/env.sh), the CLI, the long text, the log and its step header.
# Usage, at the top of a script: source bench/device/common.sh LOGNAME "$@"   (then $OUT, $SA, $TEXT, $LOG, step)
OUT=${2:?output folder}
source .device/env.sh
SA="node .device/sa-studio.mjs"
TEXT=public/texts/prose-long-alice-in-wonderland.txt
LOG=$OUT/$1.log
step() { echo "=== $(date +%T) $*" >> "$LOG"; }
