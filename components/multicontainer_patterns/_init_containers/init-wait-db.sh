#!/bin/sh
# Init-container pattern, init container "init-wait-db": reads the database address from the
# config init-config wrote, and blocks until that database answers a Redis PING. Kubernetes
# starts the app only after this exits 0. Shipped by multicontainer_patterns/_init_containers.
set -eu

config_file="${CONFIG_FILE:?CONFIG_FILE must name the config file written by init-config}"
interval="${RETRY_SECONDS:-2}"

trap 'echo "init-wait-db: stopping"; exit 143' TERM INT

db_host=$(sed -n 's/^db_host=//p' "$config_file")
db_port=$(sed -n 's/^db_port=//p' "$config_file")
if [ -z "$db_host" ] || [ -z "$db_port" ]; then
  echo "init-wait-db: ${config_file} names no db_host/db_port" >&2
  exit 1
fi

attempt=1
while :; do
  # QUIT makes the server close the connection, so nc returns after the reply.
  reply=$(printf 'PING\r\nQUIT\r\n' | timeout 5 nc "$db_host" "$db_port" 2>/dev/null || true)
  case "$reply" in
    *PONG*)
      echo "init-wait-db: database ${db_host}:${db_port} answered PONG after ${attempt} attempt(s)"
      exit 0
      ;;
  esac
  echo "init-wait-db: waiting for database ${db_host}:${db_port} (attempt ${attempt})"
  attempt=$((attempt + 1))
  sleep "$interval" &
  wait $!
done
