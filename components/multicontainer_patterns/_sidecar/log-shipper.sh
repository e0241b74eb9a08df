#!/bin/sh
# Sidecar pattern, container "log-shipper": follows the app's log file on the shared volume
# from its first line and writes every line to stdout, tagged as shipped. Shipped by
# multicontainer_patterns/_sidecar; run on the real node by the end-to-end tests.
set -eu

log_file="${LOG_FILE:?LOG_FILE must name the log file on the shared volume}"
tag="${SHIP_TAG:-[shipped]}"

trap 'echo "log-shipper: stopping"; exit 0' TERM INT

# -F retries until the file exists and follows it across rotation.
tail -n +1 -F "$log_file" | while IFS= read -r line; do
  printf '%s %s\n' "$tag" "$line"
done &
wait $!
