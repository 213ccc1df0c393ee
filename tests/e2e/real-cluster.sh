#!/usr/bin/env bash
# The cluster path against a real cluster (kind, k3d or any test cluster the
# current kubectl context points at). Not run in CI: these machines have no
# Kubernetes. Needs kubectl, curl, and an agent image the cluster can pull:
#
#   IMAGE=registry.example/podtap-agent:0.1.0 tests/e2e/real-cluster.sh
#
# It creates a namespace, runs an nginx pod and a client pod, streams the
# nginx pod's traffic with `podtap --no-tui` while the client sends requests,
# checks that the requests arrive as exchanges, and deletes the namespace.
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${IMAGE:?set IMAGE to a podtap-agent image the cluster can pull}"
NS=podtap-e2e-$$
OUT=$(mktemp)
cleanup() { kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1 || true; rm -f "$OUT"; }
trap cleanup EXIT INT TERM

cargo build --release --bin podtap
kubectl create namespace "$NS"
kubectl -n "$NS" run web --image=nginx:1.27 --port=80
kubectl -n "$NS" run client --image=curlimages/curl:8.10.1 --command -- sleep 3600
kubectl -n "$NS" wait --for=condition=Ready pod/web pod/client --timeout=180s
WEB_IP=$(kubectl -n "$NS" get pod web -o jsonpath='{.status.podIP}')

target/release/podtap --no-tui -n "$NS" web --dry-run --agent-image "$IMAGE"
target/release/podtap --no-tui -n "$NS" web --agent-image "$IMAGE" > "$OUT" &
PODTAP=$!
sleep 20   # image pull and agent start
for i in 1 2 3 4 5; do
  kubectl -n "$NS" exec client -- curl -s -o /dev/null "http://$WEB_IP/e2e-$i"
done
sleep 5
kill -INT "$PODTAP"
wait "$PODTAP" || true

found=$(grep -c '"path":"/e2e-' "$OUT" || true)
echo "exchanges seen: $found of 5"
[ "$found" -eq 5 ]
# A second session reuses the agent: the pod has exactly one podtap container.
target/release/podtap --no-tui -n "$NS" web --agent-image "$IMAGE" > /dev/null &
SECOND=$!
sleep 10
kill -INT "$SECOND"; wait "$SECOND" || true
agents=$(kubectl -n "$NS" get pod web -o jsonpath='{.spec.ephemeralContainers[*].name}' | wc -w)
echo "podtap agents in the pod: $agents"
[ "$agents" -eq 1 ]
echo "e2e: ok"
