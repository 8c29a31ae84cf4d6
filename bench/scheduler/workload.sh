#!/usr/bin/env bash
# Writes a scheduler_perf-style workload: NODES nodes from scheduler_perf's node template
# (node-default.yaml: 4 cpu, 32Gi memory, 110 pods) and PODS pods from its pod template
# (pod-default.yaml: one pause container requesting 100m cpu and 500Mi memory).
#
#   bench/scheduler/workload.sh NODES PODS DIR    -> DIR/nodes.yaml, DIR/pods.yaml
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 NODES PODS DIR" >&2
  exit 2
fi
nodes=$1 pods=$2 dir=$3
case "$nodes$pods" in *[!0-9]*) echo "$0: NODES and PODS must be whole numbers" >&2; exit 2 ;; esac
mkdir -p "$dir"
awk -v n="$nodes" 'BEGIN {
  for (i = 0; i < n; i++) {
    printf "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: scheduler-perf-%05d\n", i
    printf "spec: {}\nstatus:\n  capacity:\n    pods: \"110\"\n    cpu: \"4\"\n    memory: 32Gi\n"
    printf "  conditions:\n  - status: \"True\"\n    type: Ready\n  phase: Running\n"
  }
}' > "$dir/nodes.yaml"
awk -v n="$pods" 'BEGIN {
  for (i = 0; i < n; i++) {
    printf "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-%06d\n  namespace: default\nspec:\n", i
    printf "  containers:\n  - image: registry.k8s.io/pause:3.10\n    name: pause\n    ports:\n    - containerPort: 80\n"
    printf "    resources:\n      limits:\n        cpu: 100m\n        memory: 500Mi\n      requests:\n        cpu: 100m\n        memory: 500Mi\n"
  }
}' > "$dir/pods.yaml"
