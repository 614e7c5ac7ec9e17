#!/usr/bin/env bash
# Sharded bias suites under MPI (Open MPI's or MPICH's mpirun; glassbox links no MPI library, it reads the
# rank and size the launcher exports: OMPI_COMM_WORLD_RANK/SIZE or PMI_RANK/PMI_SIZE), then the merge.
#   examples/scale/mpi-bias.sh MODEL DATA_ROOT OUT_DIR RANKS [more bias options, e.g. --limit 200]
# Hosts: the launcher's own (Open MPI: OMPI_MCA_orte_default_hostfile=FILE, or edit in --hostfile FILE).
# Running as root, Open MPI also wants OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1.
# tests/cli/test_merge_cli.cpp runs this script with 3 ranks and compares with a single-process run.
set -euo pipefail
MODEL=${1:?model}; DATA=${2:?data root}; OUT=${3:?output folder}; N=${4:?ranks}; shift 4
mpirun -np "$N" --oversubscribe --bind-to none \
  glassbox bias "$MODEL" --suite all --data-root "$DATA" "$@" --shard auto -o "$OUT/parts"
glassbox merge "$OUT"/parts/bias.part-*-of-"$(printf %04d "$N")".json -o "$OUT/merged"
