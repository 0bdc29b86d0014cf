#!/usr/bin/env bash
# The closed MLOps loop, end to end (README "The lifecycle service"): a tracking server, a
# trained champion served by the PCE, the lifecycle service watching it; uniform traffic, then a
# hot spot at a higher load: the service detects the drift, retrains on a calibrated twin (short
# budget), replays the recorded trace and promotes only if better; then a deliberately poor
# version is promoted by hand and rolled back automatically under live load. Prints the timeline
# with its figures and ends with the tracking UI's URL (the tracking server is left running).
#
#   bash tools/lifecycle-demo.sh        # about 3 minutes after the build on 2 cores
# Environment: EONOPS_OUT (out/lifecycle-demo), EONOPS_DEMO_STEPS (champion's training steps,
# 200000), EONOPS_RETRAIN_STEPS (20000), EONOPS_TRACKING_PORT / EONOPS_PCE_PORT /
# EONOPS_LIFECYCLE_PORT (15000 / 18081 / 18090).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh eonops
eonops="$PWD/${EONOPS_BUILD_DIR:-build}/tools/eonops"
out="${EONOPS_OUT:-out/lifecycle-demo}"
tport="${EONOPS_TRACKING_PORT:-15000}"
pport="${EONOPS_PCE_PORT:-18081}"
lport="${EONOPS_LIFECYCLE_PORT:-18090}"
tracking="http://127.0.0.1:$tport"
pce="http://127.0.0.1:$pport"
model=deeprmsa-nsfnet
rm -rf "$out"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_port() {
  for _ in $(seq 1 150); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "nothing listens on port $1" >&2
  return 1
}
step() { echo; echo "== $*"; }
# Waits up to $2 seconds for the lifecycle timeline to show a line matching $1.
wait_timeline() {
  for _ in $(seq 1 "$2"); do
    if grep -qE "$1" "$out/timeline.log"; then return 0; fi
    sleep 1
  done
  echo "   (no '$1' in the timeline after $2 s)"
}

step "1. Tracking server (MLflow API + UI) on $tracking"
"$eonops" tracking serve --db "$out/eonops.db" --artifacts "$out/artifacts" --port "$tport" \
  > "$out/tracking.log" 2>&1 &
tracking_pid=$!
wait_port "$tport"

step "2. Train the champion (masked PPO, ${EONOPS_DEMO_STEPS:-200000} steps at 250 Erlang, uniform traffic)"
"$eonops" train configs/experiments/deeprmsa-nsfnet-ppo.json --steps "${EONOPS_DEMO_STEPS:-200000}" \
  --out "$out/champion" --tracking "$tracking" --register "$model" --alias champion \
  --eval-requests 5000 | grep -E '^(trained|registered)'

step "3. The PCE serves $model@champion; the lifecycle service watches it"
"$eonops" pce serve --config configs/pce-nsfnet-k5.json --tracking "$tracking" --state-db :memory: \
  --port "$pport" > "$out/pce.log" 2>&1 &
pids+=($!)
wait_port "$pport"
# The shipped lifecycle settings with a short retraining budget and windows for a demo, on the
# DeepRMSA K = 5 network where a PPO champion trains in a minute (the default PCE config serves the
# shipped ES policy, which the loop retrains by ES: README "The lifecycle service").
sed -e "s|\"pce_config\": \"pce.json\"|\"pce_config\": \"$PWD/configs/pce-nsfnet-k5.json\"|" \
    -e "s|\"experiment\": \"experiments/deeprmsa-nsfnet-ppo.json\"|\"experiment\": \"$PWD/configs/experiments/deeprmsa-nsfnet-ppo.json\"|" \
    -e "s|\"steps\": 500000|\"steps\": ${EONOPS_RETRAIN_STEPS:-20000}|" \
    -e "s|\"checkpoint_steps\": 100000|\"checkpoint_steps\": 10000|" \
    -e "s|\"cooldown_s\": 300|\"cooldown_s\": 600|" \
    -e "s|\"twin_requests\": 5000|\"twin_requests\": 3000|" \
    -e "s|\"overrides\": {}|\"overrides\": {\"env\": {\"warmup\": 500}}|" \
    configs/lifecycle.json > "$out/lifecycle.json"
"$eonops" lifecycle serve --config "$out/lifecycle.json" --pce "$pce" --tracking "$tracking" \
  --state-dir "$out/lifecycle-state" --port "$lport" > "$out/timeline.log" 2>&1 &
pids+=($!)
wait_port "$lport"

step "4. Traffic: uniform at 250 Erlang, then a hot spot at Lincoln, NE (node 6) at 350 Erlang"
# Half of the weight on the pairs to and from node 6, the rest uniform.
{
  echo '{"_comment": "demo hot spot: pairs to and from node 6 weigh 12x", "traffic_matrix": ['
  for s in $(seq 0 13); do
    row=""
    for d in $(seq 0 13); do
      if [ "$s" = "$d" ]; then w=0; elif [ "$s" = 6 ] || [ "$d" = 6 ]; then w=12; else w=1; fi
      row="$row${row:+, }$w"
    done
    echo "  [$row]$([ "$s" = 13 ] || echo ,)"
  done
  echo ']}'
} > "$out/hotspot.json"
cat > "$out/phases.json" <<EOF
{"phases": [
  {"at_request": 0, "label": "uniform, as trained", "load_erlang": 250, "traffic_matrix": "uniform"},
  {"at_request": 5000, "label": "hot spot at Lincoln (node 6)", "load_erlang": 350, "traffic_matrix": "hotspot.json"}
]}
EOF
"$eonops" loadgen --pce "$pce" --config configs/pce-nsfnet-k5.json --requests 16000 --warmup 0 --rate 400 \
  --phases "$out/phases.json" --seed 1 > "$out/loadgen-drift.txt" 2>&1 &
load_pid=$!
pids+=($load_pid)
# The attempt: drift -> retraining -> replay -> decision.
wait_timeline "PROMOTED|REFUSED" 600
wait "$load_pid" || true
grep -E "phase|blocking" "$out/loadgen-drift.txt" | sed 's/^/   /'

step "5. A deliberately poor version: a policy trained for 2048 steps, promoted by hand"
"$eonops" train configs/experiments/deeprmsa-nsfnet-ppo.json --steps 2048 --seed 7 \
  --out "$out/poor" --tracking "$tracking" --register "$model" | grep -E '^registered' | tee "$out/poor.txt"
poor=$(sed -n 's/.*version \([0-9]*\).*/\1/p' "$out/poor.txt")
"$eonops" loadgen --pce "$pce" --config configs/pce-nsfnet-k5.json --requests 8000 --warmup 0 --rate 400 \
  --seed 2 > "$out/loadgen-rollback.txt" 2>&1 &
load_pid=$!
pids+=($load_pid)
sleep 6  # the champion's baseline under this traffic
echo "   operator: $model@champion -> v$poor"
"$eonops" tracking alias --db "$out/eonops.db" --artifacts "$out/artifacts" --model "$model" \
  --alias champion --version "$poor" --user operator > /dev/null
wait_timeline "ROLLBACK" 60
wait "$load_pid" || true
grep -E "blocking|errors" "$out/loadgen-rollback.txt" | sed 's/^/   /'

step "Timeline (lifecycle service)"
grep -vE "drift reference" "$out/timeline.log" | sed 's/^/   /'

step "Status"
"$eonops" lifecycle status --url "http://127.0.0.1:$lport" | sed 's/^/   /'

echo
echo "Model performance trends: $tracking/#/models/$model/trends"
echo "Registry and decisions:   $tracking/#/models/$model"
echo "(the tracking server keeps running for the UI: kill $tracking_pid to stop it; logs in $out)"
