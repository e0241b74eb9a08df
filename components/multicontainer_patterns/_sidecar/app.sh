#!/bin/sh
# Sidecar pattern, container "app": appends a timestamped line to the shared log file every
# LOG_INTERVAL_SECONDS and echoes it, so `kubectl logs -c app` and the log shipper show the
# same lines. Shipped by multicontainer_patterns/_sidecar; run on the real node by the end-to-end tests.
set -eu

log_file="${LOG_FILE:?LOG_FILE must name the log file on the shared volume}"
interval="${LOG_INTERVAL_SECONDS:-2}"
rotate_after="${LOG_ROTATE_AFTER_LINES:-1000}"

# As PID 1 the shell gets no default SIGTERM action: stop on it explicitly.
trap 'echo "app: stopping"; exit 0' TERM INT

count=0
while :; do
  count=$((count + 1))
  line="$(date -u '+%Y-%m-%dT%H:%M:%SZ') INFO app: handled request id=${count}"
  echo "$line" >>"$log_file"
  echo "$line"
  # Keep the emptyDir bounded; `tail -F` in the shipper follows the new file.
  if [ $((count % rotate_after)) -eq 0 ]; then
    mv "$log_file" "${log_file}.1"
  fi
  # Sleeping in the background lets the trap run as soon as a signal arrives.
  sleep "$interval" &
  wait $!
done
