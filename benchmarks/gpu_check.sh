#!/usr/bin/env bash
# GPU check: the paper profile on a phantom of 1,000 studies, wall time and samples/s per stage.
# Designed to finish within 8 minutes on one H100 (16 cores). Run from the repository root:
#   bash benchmarks/gpu_check.sh [n_studies]
# Needs the project installed (make setup, or pip install -e .) with a CUDA build of torch.
set -euo pipefail
export KEDRO_DISABLE_TELEMETRY=true PYTHONUNBUFFERED=1
N_STUDIES=${1:-1000}
WORK=${GPU_CHECK_ROOT:-/tmp/disc_grade_gpu_check}
KEDRO=${KEDRO:-kedro}
rm -rf "$WORK" && mkdir -p "$WORK"
python - <<'PY'
import torch
print("torch", torch.__version__, "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-")
PY
CORES=$(nproc)
PARAMS="raw_root=$WORK/raw,phantom.cohort.n_studies=$N_STUDIES,phantom.cohort.image_size=256,phantom.workers=$CORES"
PARAMS="$PARAMS,spinal.pretraining.epochs=30,spinal.finetuning.epochs=25,spinal.pretraining.checkpoint=$WORK/pre.ckpt,spinal.finetuning.checkpoint_dir=$WORK"
declare -A WALL
# the canal's crops, folds and condition pipeline are the GPU stage (pretraining, fine-tuning, the localiser)
for stage in phantom ingestion split spinal; do
  start=$(date +%s.%N)
  if [ "$stage" = spinal ]; then what=(--pipelines=rois,folds,condition --namespaces=spinal); else what=(--pipelines="$stage"); fi
  "$KEDRO" run --env=paper "${what[@]}" --params="$PARAMS" > "$WORK/$stage.log" 2>&1 \
    || { tail -40 "$WORK/$stage.log"; exit 1; }
  WALL[$stage]=$(python -c "import time; print(f'{time.time() - $start:.1f}')")
  echo "stage $stage: ${WALL[$stage]} s"
done
# samples/s per epoch come from the stage logs (the tracked curves hold no timings)
WORK="$WORK" python - <<'PY'
import os, re, statistics
import pandas as pd
work = os.environ["WORK"]
rate = re.compile(r"(\S+) epoch \d+: .*?([\d.]+) samples/s")
runs = {}
for line in open(f"{work}/spinal.log"):
    if m := rate.search(line):
        runs.setdefault(m.group(1), []).append(float(m.group(2)))
for run, rates in runs.items():
    print(f"{run}: {len(rates)} epochs, median {statistics.median(rates):.0f} samples/s")
for v in ("contrastive", "scratch", "frozen"):
    c = pd.read_csv(f"data/08_reporting/spinal/finetuning_curve_{v}.csv")
    print(f"finetuning[{v}]: best validation balanced accuracy {c['val_balanced_accuracy'].max():.3f}")
PY
