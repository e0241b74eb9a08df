#!/bin/sh
# Init-container pattern, container "app": starts only after both init containers succeeded,
# prints the configuration init-config wrote and uses it. Shipped by multicontainer_patterns/_init_containers.
set -eu

config_file="${CONFIG_FILE:?CONFIG_FILE must name the config file written by init-config}"
interval="${REPORT_INTERVAL_SECONDS:-10}"

trap 'echo "app: stopping"; exit 0' TERM INT

echo "app: started with the configuration from ${config_file}:"
cat "$config_file"
environment=$(sed -n 's/^app_environment=//p' "$config_file")
db_host=$(sed -n 's/^db_host=//p' "$config_file")
db_port=$(sed -n 's/^db_port=//p' "$config_file")

while :; do
  echo "app: serving in ${environment}, using database ${db_host}:${db_port}"
  sleep "$interval" &
  wait $!
done
