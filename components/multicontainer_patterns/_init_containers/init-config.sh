#!/bin/sh
# Init-container pattern, init container "init-config": writes the app's configuration to the
# shared config volume before anything else runs. The values come from the environment; the
# file is plain `key=value` lines a POSIX shell can source. Shipped by multicontainer_patterns/_init_containers.
set -eu

config_file="${CONFIG_FILE:?CONFIG_FILE must name the config file on the shared volume}"
: "${APP_ENVIRONMENT:?}" "${DB_HOST:?}" "${DB_PORT:?}"

echo "init-config: writing ${config_file}"
# Written next to the target and moved, so a reader never sees a partial file.
cat >"${config_file}.tmp" <<CONFIG
# written by init-config at $(date -u '+%Y-%m-%dT%H:%M:%SZ')
app_environment=${APP_ENVIRONMENT}
db_host=${DB_HOST}
db_port=${DB_PORT}
CONFIG
mv "${config_file}.tmp" "$config_file"
cat "$config_file"
echo "init-config: done"
