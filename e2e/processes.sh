# shellcheck shell=bash
# Sourced by cluster.sh and node.sh: background processes with a pid file and a log each,
# waits that fail as soon as one of them has exited, and stopping with a grace period. The
# sourcing script sets PID_DIR and LOG_DIR and defines log().

# launch NAME CMD...: runs CMD in the background; its output in $LOG_DIR/NAME.log, its pid in
# $PID_DIR/NAME.pid.
launch() {
	local name=$1
	shift
	nohup "$@" >"$LOG_DIR/$name.log" 2>&1 </dev/null &
	echo $! >"$PID_DIR/$name.pid"
	log "$name started (pid $!)"
}

# Fails if a launched process has exited (and shows the end of its log).
check_processes() {
	local f name
	for f in "$PID_DIR"/*.pid; do
		[ -e "$f" ] || continue
		name=$(basename "$f" .pid)
		if ! kill -0 "$(cat "$f")" 2>/dev/null; then
			log "$name exited; last lines of $LOG_DIR/$name.log:"
			tail -n 30 "$LOG_DIR/$name.log" >&2 || true
			return 1
		fi
	done
}

# wait_until DESCRIPTION SECONDS COMMAND...: polls COMMAND every 0.5 s.
wait_until() {
	local what=$1 timeout=$2 deadline
	shift 2
	deadline=$(($(date +%s) + timeout))
	until "$@" >/dev/null 2>&1; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			log "timed out after ${timeout}s waiting for $what"
			return 1
		fi
		check_processes || return 1
		sleep 0.5
	done
	log "$what: ok"
}

# term_pids SECONDS PID...: SIGTERM, wait up to SECONDS, then SIGKILL.
term_pids() {
	local timeout=$1 pid alive _
	shift
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null || true
	for _ in $(seq 1 $((timeout * 10))); do
		alive=0
		for pid in "$@"; do
			if kill -0 "$pid" 2>/dev/null; then alive=1; fi
		done
		[ "$alive" -eq 1 ] || return 0
		sleep 0.1
	done
	kill -KILL "$@" 2>/dev/null || true
}

# One line per launched process: running (with its pid) or exited.
list_processes() {
	local f
	for f in "$PID_DIR"/*.pid; do
		[ -e "$f" ] || continue
		if kill -0 "$(cat "$f")" 2>/dev/null; then
			echo "$(basename "$f" .pid): running (pid $(cat "$f"))"
		else
			echo "$(basename "$f" .pid): exited"
		fi
	done
}
