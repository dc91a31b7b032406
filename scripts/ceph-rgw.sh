#!/bin/bash
# Throwaway single-node Ceph (1 mon, 1 memstore OSD, no mgr) + radosgw, as a real S3 server for tests.
#
#   scripts/ceph-rgw.sh start <dir>   # ~15 s; prints `export S3_TEST_*=...` lines on stdout
#   scripts/ceph-rgw.sh stop <dir>    # stops the daemons by their pid files and removes <dir>
#   eval "$(scripts/ceph-rgw.sh start /tmp/ceph)"
#
# Needs the Debian packages radosgw, ceph-mon, ceph-osd. Data lives in memory (memstore, 3 GiB cap),
# so everything is gone after stop. Ports: mon 6789 and rgw $CEPH_RGW_PORT (default 7480), on 127.0.0.1.
# Progress and errors go to stderr, so stdout can be eval'ed.
set -euo pipefail

usage() { echo "usage: $0 start|stop <dir>" >&2; exit 2; }
[ $# -eq 2 ] || usage
CMD=$1
D=$2
PORT=${CEPH_RGW_PORT:-7480}
ACCESS_KEY=${CEPH_RGW_ACCESS_KEY:-DAPPLETESTACCESSKEY}
SECRET_KEY=${CEPH_RGW_SECRET_KEY:-DAPPLETESTSECRETKEY}
PIDFILES=(client.rgw.a.pid osd.0.pid mon.a.pid)

log() { echo "ceph-rgw: $*" >&2; }

print_env() {
  echo "export S3_TEST_ENDPOINT=http://127.0.0.1:$PORT"
  echo "export S3_TEST_ACCESS_KEY=$ACCESS_KEY"
  echo "export S3_TEST_SECRET_KEY=$SECRET_KEY"
}

running_pids() {
  local f p
  for f in "${PIDFILES[@]}"; do
    if [ -f "$D/$f" ]; then
      p=$(cat "$D/$f")
      if kill -0 "$p" 2>/dev/null; then echo "$p"; fi
    fi
  done
}

stop() {
  local pids alive i p
  mapfile -t pids < <(running_pids)
  if [ ${#pids[@]} -gt 0 ]; then
    log "stopping pids ${pids[*]}"
    kill "${pids[@]}" 2>/dev/null || true
    # The OSD takes several seconds to exit; escalate only after 30 s.
    for i in $(seq 1 60); do
      alive=0
      for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ $alive = 0 ] && break
      sleep 0.5
    done
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  fi
  # Only remove what this script created (the conf file marks it).
  if [ -f "$D/ceph.conf" ]; then rm -rf "$D"; fi
  log "stopped"
}

start() {
  local tool
  for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool uuidgen curl; do
    command -v "$tool" >/dev/null || { log "missing '$tool' (apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd curl uuid-runtime)"; exit 1; }
  done
  local alive; alive=$(running_pids | wc -l)
  if [ "$alive" -eq ${#PIDFILES[@]} ] && curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
    log "already running in $D"
    print_env
    return
  fi
  if [ "$alive" -gt 0 ]; then
    # What a failed start left behind (a mon without an osd, say) is not a running cluster: start afresh.
    log "stopping the daemons of an earlier start that did not finish"
    stop
  fi
  if [ -e "$D" ] && [ ! -f "$D/ceph.conf" ] && [ -n "$(ls -A "$D" 2>/dev/null)" ]; then
    log "refusing to use non-empty directory $D that this script did not create"; exit 1
  fi
  local port
  for port in 6789 "$PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      log "port $port on 127.0.0.1 is already in use (another Ceph? stop it first, or set CEPH_RGW_PORT for the rgw port)"; exit 1
    fi
  done
  rm -rf "$D"; mkdir -p "$D"/{mon.a,osd.0,rgw,log}
  D=$(cd "$D" && pwd)
  local fsid; fsid=$(uuidgen)
  cat > "$D/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:6789
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
run dir = $D
log file = $D/log/\$name.log
admin socket = $D/\$name.asok
pid file = $D/\$name.pid
keyring = $D/keyring
[mon]
mon data = $D/mon.\$id
[osd]
osd data = $D/osd.\$id
osd objectstore = memstore
memstore device bytes = 3221225472
osd max object size = 1073741824
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $D/rgw
rgw dns name = 127.0.0.1
CONF
  local C=(-c "$D/ceph.conf") i
  log "starting mon"
  ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --addv a "[v1:127.0.0.1:6789]" --fsid "$fsid" "$D/monmap" >/dev/null
  ceph-mon "${C[@]}" --mkfs -i a --monmap "$D/monmap" 2>>"$D/log/mon-start.err" \
    || { log "mon mkfs failed: $(tail -3 "$D/log/mon-start.err")"; stop; exit 1; }
  ceph-mon "${C[@]}" -i a 2>>"$D/log/mon-start.err" || { log "mon did not start: $(tail -3 "$D/log/mon-start.err")"; stop; exit 1; }
  # The mon may take a moment to answer (longer on a loaded machine); every later step needs it.
  for i in $(seq 1 60); do ceph "${C[@]}" --connect-timeout 2 mon stat >/dev/null 2>&1 && break; sleep 0.5; done
  ceph "${C[@]}" --connect-timeout 5 mon stat >/dev/null 2>>"$D/log/mon-start.err" \
    || { log "mon did not answer on 127.0.0.1:6789 (port taken by another Ceph?): $(tail -3 "$D/log/mon-start.err")"; stop; exit 1; }
  log "starting osd"
  ceph "${C[@]}" osd create >/dev/null 2>>"$D/log/osd-start.err" \
    || { log "osd create failed: $(tail -3 "$D/log/osd-start.err")"; stop; exit 1; }
  ceph-osd "${C[@]}" -i 0 --mkfs 2>>"$D/log/osd-start.err" || { log "osd mkfs failed: $(tail -3 "$D/log/osd-start.err")"; stop; exit 1; }
  ceph-osd "${C[@]}" -i 0 2>>"$D/log/osd-start.err" || { log "osd did not start: $(tail -3 "$D/log/osd-start.err")"; stop; exit 1; }
  for i in $(seq 1 60); do ceph "${C[@]}" osd stat 2>/dev/null | grep -q "1 up" && break; sleep 0.5; done
  ceph "${C[@]}" osd stat 2>/dev/null | grep -q "1 up" || { log "osd did not come up; see $D/log"; stop; exit 1; }
  log "starting radosgw on 127.0.0.1:$PORT"
  radosgw "${C[@]}" -n client.rgw.a 2>>"$D/log/rgw-start.err" || { log "radosgw did not start: $(tail -3 "$D/log/rgw-start.err")"; stop; exit 1; }
  for i in $(seq 1 120); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.5; done
  curl -s -o /dev/null "http://127.0.0.1:$PORT/" || { log "radosgw did not answer; see $D/log"; stop; exit 1; }
  radosgw-admin "${C[@]}" user create --uid=dapple-test --display-name=dapple-test \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null 2>>"$D/log/rgw-start.err" \
    || { log "creating the test user failed: $(tail -3 "$D/log/rgw-start.err")"; stop; exit 1; }
  log "ready"
  print_env
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
