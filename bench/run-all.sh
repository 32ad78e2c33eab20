#!/bin/sh
# Runs every benchmark and prints the results as Markdown (paste into BENCHMARKS.md).
cd "$(dirname "$0")" || exit 1
for b in replay.sh hostmem.sh; do
	sh "$b"
	echo
done
