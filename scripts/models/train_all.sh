#!/usr/bin/env bash
# Rebuild Sluice's two shipped tiny models from scratch (CPU only, no network):
#   corpus from Debian packages -> tokenizer + llama / qwen2 training -> GGUF Q8_0 export.
# Usage: bash scripts/models/train_all.sh        (or: npm run models:train)
# Env:   LLAMA_STEPS / QWEN2_STEPS (default 850 / 750: about 4.5 minutes each on an idle 2-core
#        machine; fixed step counts keep the result independent of machine speed and load),
#        PYTHON (default /usr/bin/python3, the interpreter that sees Debian's python3-torch/numpy).
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON="${PYTHON:-/usr/bin/python3}"
LLAMA_STEPS="${LLAMA_STEPS:-850}"
QWEN2_STEPS="${QWEN2_STEPS:-750}"
# Corpus text (public domain) + the training stack. Installed here: nothing.
PACKAGES=(sword-text-web jargon-text dict-devil python3-torch python3-numpy libopenblas0-pthread)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "missing Debian packages: ${missing[*]}" >&2
  echo "install them with:  sudo apt-get install -y ${PACKAGES[*]}" >&2
  exit 1
fi

export OPENBLAS_NUM_THREADS=1
"$PYTHON" scripts/models/prepare_corpus.py --out models/training/corpus.txt
"$PYTHON" scripts/models/train.py --arch llama --steps "$LLAMA_STEPS" --seed 1234 --out models/training/llama3 --name sluice-llama3-tiny
"$PYTHON" scripts/models/train.py --arch qwen2 --steps "$QWEN2_STEPS" --seed 1234 --out models/training/qwen2 --name sluice-qwen2-tiny

npm run model:export -- --in models/training/llama3 --out models/llama3-tiny-q8_0.gguf --name sluice-llama3-tiny
npm run model:export -- --in models/training/qwen2 --out models/qwen2-tiny-q8_0.gguf --name sluice-qwen2-tiny
