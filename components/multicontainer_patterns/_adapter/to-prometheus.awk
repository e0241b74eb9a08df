# Adapter pattern: converts one batch of the app's pipe-delimited metrics
#   <unix seconds>|<metric name>|<value>|<label>=<value>,<label>=<value>
# into the Prometheus text exposition format (version 0.0.4). Input must be sorted by metric
# name, so each metric family is written as one group. Names ending in _total are counters,
# everything else a gauge. Malformed lines are reported on stderr and skipped.
# Shipped by multicontainer_patterns/_adapter (run by adapter.sh); tested with prometheus_client's parser.
BEGIN { FS = "|" }

function escape(value) {
  gsub(/\\/, "\\\\", value)
  gsub(/"/, "\\\"", value)
  gsub(/\n/, "\\n", value)
  return value
}

function labels(text,    pairs, count, i, key, rendered) {
  if (text == "") return ""
  count = split(text, pairs, ",")
  rendered = ""
  for (i = 1; i <= count; i++) {
    key = pairs[i]
    sub(/=.*/, "", key)
    if (key !~ /^[a-zA-Z_][a-zA-Z0-9_]*$/ || index(pairs[i], "=") == 0) return "INVALID"
    rendered = rendered (rendered == "" ? "" : ",") key "=\"" escape(substr(pairs[i], length(key) + 2)) "\""
  }
  return "{" rendered "}"
}

{
  if (NF != 4 || $1 !~ /^[0-9]+$/ || $2 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/ ||
      $3 !~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) {
    print "adapter: skipping malformed line " NR ": " $0 > "/dev/stderr"
    next
  }
  rendered_labels = labels($4)
  if (rendered_labels == "INVALID") {
    print "adapter: skipping line " NR " with malformed labels: " $0 > "/dev/stderr"
    next
  }
  if ($2 != family) {
    family = $2
    print "# HELP " family " " family " reported by the app, converted by the adapter sidecar."
    print "# TYPE " family " " (family ~ /_total$/ ? "counter" : "gauge")
  }
  # Prometheus timestamps are milliseconds.
  print family rendered_labels " " $3 " " $1 "000"
}
