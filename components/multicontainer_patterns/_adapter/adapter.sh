#!/bin/sh
# Adapter pattern, container "adapter": every ADAPT_INTERVAL_SECONDS takes the newest batch
# of the app's raw metrics from the shared volume and prints it in Prometheus text format on
# stdout, once per batch, each block a complete exposition. Shipped by multicontainer_patterns/_adapter.
set -eu

metrics_file="${METRICS_FILE:?METRICS_FILE must name the raw metrics file on the shared volume}"
converter="${CONVERTER:?CONVERTER must name to-prometheus.awk}"
interval="${ADAPT_INTERVAL_SECONDS:-2}"

trap 'echo "# adapter: stopping"; exit 0' TERM INT

last_batch=""
while :; do
  if [ -s "$metrics_file" ]; then
    batch=$(tail -n 1 "$metrics_file" | cut -d '|' -f 1)
    if [ -n "$batch" ] && [ "$batch" != "$last_batch" ]; then
      grep "^${batch}|" "$metrics_file" | sort -t '|' -k 2,2 | awk -f "$converter"
      last_batch="$batch"
    fi
  fi
  sleep "$interval" &
  wait $!
done
