#!/bin/sh
# The lab's stand-in for real plugins (HAProxy, PostgreSQL, DNS come with their own issue):
# records each action a failover runs, with the FAILOVER_* variables the controller sets,
# in $LAB_DIR/actions.log, and reports what a real plugin would (RPO lag, DNS TTL).
# Usage (from a site's actions: or a plan's exec step): action.sh STEP
set -eu
step=${1:?usage: action.sh STEP}
log=${LAB_DIR:-/tmp/failoverctl-lab}/actions.log
printf '%s %s group=%s epoch=%s incident=%s from=%s to=%s site=%s drill=%s\n' \
    "$(date -u +%H:%M:%S.%3N)" "$step" "${FAILOVER_GROUP:-}" "${FAILOVER_EPOCH:-}" "${FAILOVER_INCIDENT:-}" \
    "${FAILOVER_FROM:-}" "${FAILOVER_TO:-}" "${FAILOVER_SITE:-}" "${FAILOVER_DRILL:-}" >>"$log"
case "$step" in
    promote)
        echo "FAILOVER_REPORT lag_bytes=0"
        echo "FAILOVER_REPORT lag_seconds=0"
        echo "FAILOVER_REPORT changed=lab: ${FAILOVER_SITE:-?} promoted (simulated)" ;;
    dns)
        echo "FAILOVER_REPORT dns_ttl=30s"
        echo "FAILOVER_REPORT changed=lab: app.example.test points at ${FAILOVER_SITE:-?} (simulated)" ;;
    *)
        echo "FAILOVER_REPORT changed=lab: $step${FAILOVER_SITE:+ $FAILOVER_SITE} (simulated)" ;;
esac
