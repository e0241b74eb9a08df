#!/bin/sh
# Adapter pattern, container "app": every METRICS_INTERVAL_SECONDS appends one batch of
# metrics to METRICS_FILE in the app's own pipe-delimited format, one metric per line:
#   <unix seconds>|<metric name>|<value>|<label>=<value>,<label>=<value>
# The adapter turns these into Prometheus text. Shipped by multicontainer_patterns/_adapter.
set -eu

metrics_file="${METRICS_FILE:?METRICS_FILE must name the raw metrics file on the shared volume}"
interval="${METRICS_INTERVAL_SECONDS:-5}"
keep_lines="${METRICS_KEEP_LINES:-200}"

trap 'echo "app: stopping"; exit 0' TERM INT

requests=0
errors=0
batch="${metrics_file}.batch"
while :; do
  now=$(date +%s)
  requests=$((requests + 5 + now % 7))
  errors=$((errors + (now % 3 == 0)))
  queue_depth=$((now % 11))
  latency_ms=$((40 + now % 23))
  {
    echo "${now}|http_requests_total|${requests}|method=GET,path=/api/orders"
    echo "${now}|http_errors_total|${errors}|method=GET,path=/api/orders"
    echo "${now}|queue_depth|${queue_depth}|queue=orders"
    # Prometheus names carry the base unit: seconds, not milliseconds (promtool lints _ms).
    echo "${now}|request_latency_seconds|$(printf '0.%03d' "$latency_ms")|"
  } >"$batch"
  # One append per batch, so a reader never sees half of one.
  cat "$batch" >>"$metrics_file"
  echo "app: wrote 4 metrics at ${now}"
  # Keep the shared volume bounded.
  if [ "$(wc -l <"$metrics_file")" -gt "$keep_lines" ]; then
    tail -n 20 "$metrics_file" >"$batch" && mv "$batch" "$metrics_file"
  fi
  sleep "$interval" &
  wait $!
done
