#!/usr/bin/env bash
# Sharded bias suites on a Slurm cluster: one array task per shard, then a merge job that runs once every
# task has succeeded. Usage (from a login node, with glassbox on every node's PATH and the model and
# datasets on a shared file system):
#   examples/scale/slurm-bias.sh MODEL DATA_ROOT OUT_DIR SHARDS [more bias options, e.g. --limit 200]
# Each task runs `glassbox bias ... --shard auto`, which reads SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT
# (the array is --array=0-(N-1); a range with a step, 0-14:2, works too, a list of ids does not); the merge
# writes OUT_DIR/merged/bias.json, byte for byte what one process would have written. GB_CPUS_PER_TASK
# (default 8): each task's cores and threads. Options that change numbers (--suite, --limit, --seed,
# --resamples, --variant) must be the same in every task: merge refuses parts of different runs.
set -euo pipefail
MODEL=${1:?model}; DATA=${2:?data root}; OUT=${3:?output folder}; SHARDS=${4:?shards}; shift 4
mkdir -p "$OUT/logs"
CPUS=${GB_CPUS_PER_TASK:-8}
ARGS="--suite all --data-root $DATA $*"  # bias defaults: --seed 1 --resamples 1000
array_id=$(sbatch --parsable --job-name=gb-bias --array=0-$((SHARDS - 1)) --cpus-per-task=$CPUS --time=12:00:00 \
  --output="$OUT/logs/shard-%a.out" \
  --wrap="glassbox bias $MODEL $ARGS --threads \$SLURM_CPUS_PER_TASK --shard auto -o $OUT/parts")
sbatch --job-name=gb-merge --dependency=afterok:"$array_id" --time=00:30:00 --output="$OUT/logs/merge.out" \
  --wrap="glassbox merge $OUT/parts/bias.part-*-of-$(printf %04d "$SHARDS").json -o $OUT/merged"
echo "submitted array job $array_id ($SHARDS shards) and its merge; results in $OUT/merged/bias.json"
