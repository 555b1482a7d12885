#!/bin/sh
# Installs the SpotGuard agent: downloads the bundle and unit from the control plane, writes
# /etc/spot-optimizer/agent.env (mode 600) with the logical id the agent registers with, tags the
# instance with it, replaces a legacy agent, starts the unit, runs --check.
#   curl -fsSL https://<control plane>/agent/install.sh | sudo sh -s -- --server https://<control plane> --token <client token>
# Options: --server URL  --token TOKEN  --logical-id ID  --yes (no questions)
set -eu

SERVER="${SPOT_OPTIMIZER_SERVER_URL:-${CENTRAL_SERVER_URL:-}}"
TOKEN="${SPOT_OPTIMIZER_CLIENT_TOKEN:-${CLIENT_TOKEN:-}}"
LOGICAL_ID="${LOGICAL_AGENT_ID:-}"
# SPOTGUARD_INSTALL_ROOT prefixes every path (tests install into a temp dir).
PREFIX="${SPOTGUARD_INSTALL_ROOT:-}"
ENV_DIR="$PREFIX/etc/spot-optimizer"
ENV_FILE="$ENV_DIR/agent.env"
INSTALL_DIR="$PREFIX/opt/spotguard"
UNIT_DIR="$PREFIX/etc/systemd/system"
UNIT=spotguard-agent.service
LEGACY_UNITS="spot-optimizer-agent.service spotguard-agent.service"

die() { echo "install.sh: $*" >&2; exit 1; }
# A terminal to ask on (none under `curl | sh` in CI or cloud-init).
has_tty() { (: </dev/tty) 2>/dev/null; }

while [ $# -gt 0 ]; do
  case "$1" in
    --server) SERVER="$2"; shift 2 ;;
    --token) TOKEN="$2"; shift 2 ;;
    --logical-id) LOGICAL_ID="$2"; shift 2 ;;
    --yes) shift ;;
    *) die "unknown option $1" ;;
  esac
done

[ -n "$PREFIX" ] || [ "$(id -u)" -eq 0 ] || die "run as root (sudo)"
command -v node >/dev/null 2>&1 || die "Node.js 20 or newer is required (e.g. dnf install nodejs20 / apt install nodejs)"
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
[ "$NODE_MAJOR" -ge 20 ] || die "Node.js 20 or newer is required (found $(node --version))"
command -v systemctl >/dev/null 2>&1 || die "systemd is required"
command -v curl >/dev/null 2>&1 || die "curl is required"

# Keep the settings of an existing (legacy) installation unless new ones are given.
if [ -f "$ENV_FILE" ]; then
  # shellcheck disable=SC1090
  OLD_SERVER="$(sed -n 's/^\(SPOT_OPTIMIZER_SERVER_URL\|CENTRAL_SERVER_URL\)=//p' "$ENV_FILE" | head -n1)"
  OLD_TOKEN="$(sed -n 's/^\(SPOT_OPTIMIZER_CLIENT_TOKEN\|CLIENT_TOKEN\)=//p' "$ENV_FILE" | head -n1)"
  [ -n "$SERVER" ] || SERVER="$OLD_SERVER"
  [ -n "$TOKEN" ] || TOKEN="$OLD_TOKEN"
fi
if [ -z "$SERVER" ] && has_tty; then printf 'Control plane URL: ' >/dev/tty; read -r SERVER </dev/tty; fi
if [ -z "$TOKEN" ] && has_tty; then printf 'Client token: ' >/dev/tty; stty -echo </dev/tty 2>/dev/null || true; read -r TOKEN </dev/tty; stty echo </dev/tty 2>/dev/null || true; echo >/dev/tty; fi
[ -n "$SERVER" ] || die "the control plane URL is required (--server)"
[ -n "$TOKEN" ] || die "the client token is required (--token)"
SERVER="${SERVER%/}"

# A legacy agent stops first; its env file is kept (and rewritten below with the right names).
for unit in $LEGACY_UNITS; do
  if systemctl list-unit-files "$unit" >/dev/null 2>&1 && systemctl cat "$unit" 2>/dev/null | grep -q python; then
    echo "Stopping legacy agent $unit"
    systemctl disable --now "$unit" || true
  fi
done
systemctl disable --now spot-optimizer-agent.service >/dev/null 2>&1 || true

mkdir -p "$INSTALL_DIR" "$ENV_DIR"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
curl -fsSL "$SERVER/agent/spotguard-agent.js" -o "$TMP/spotguard-agent.js" || die "download of the agent failed"
curl -fsSL "$SERVER/agent/spotguard-agent.service" -o "$TMP/$UNIT" || die "download of the unit failed"
node "$TMP/spotguard-agent.js" --version >/dev/null || die "the downloaded agent does not run"
install -m 0755 "$TMP/spotguard-agent.js" "$INSTALL_DIR/spotguard-agent.js"
mkdir -p "$UNIT_DIR"
install -m 0644 "$TMP/$UNIT" "$UNIT_DIR/$UNIT"

# Keep the other settings of an existing env file; write the server and token under the right names.
umask 077
{
  echo "SPOT_OPTIMIZER_SERVER_URL=$SERVER"
  echo "SPOT_OPTIMIZER_CLIENT_TOKEN=$TOKEN"
  [ -z "$LOGICAL_ID" ] || echo "LOGICAL_AGENT_ID=$LOGICAL_ID"
  if [ -f "$ENV_FILE" ]; then
    grep -v -E '^(SPOT_OPTIMIZER_SERVER_URL|CENTRAL_SERVER_URL|SPOT_OPTIMIZER_CLIENT_TOKEN|CLIENT_TOKEN|AWS_REGION)=' "$ENV_FILE" |
      { if [ -n "$LOGICAL_ID" ]; then grep -v '^LOGICAL_AGENT_ID='; else cat; fi; } || true
  fi
} >"$TMP/agent.env"
install -m 0600 "$TMP/agent.env" "$ENV_FILE"

# The logical id the agent registers with: --logical-id, else what the agent finds (the instance's
# LogicalAgentId tag, its registration from this instance, the env file's, else the instance id). It
# goes into the env file, which every instance launched from this one's images (a switch, a replica)
# boots with, and onto the instance as its LogicalAgentId tag when the role may (ec2:CreateTags).
set -a; . "$ENV_FILE"; set +a
LOGICAL_ID="$(node "$INSTALL_DIR/spotguard-agent.js" --adopt-identity ${LOGICAL_ID:+"$LOGICAL_ID"})" ||
  die "could not settle the logical id (is the instance metadata service reachable?)"
{ grep -v '^LOGICAL_AGENT_ID=' "$ENV_FILE" || true; echo "LOGICAL_AGENT_ID=$LOGICAL_ID"; } >"$TMP/agent.env"
install -m 0600 "$TMP/agent.env" "$ENV_FILE"
echo "Logical id: $LOGICAL_ID"

systemctl daemon-reload
systemctl enable "$UNIT"
systemctl restart "$UNIT"
echo "Checking the installation:"
set -a; . "$ENV_FILE"; set +a
if node "$INSTALL_DIR/spotguard-agent.js" --check; then
  echo "SpotGuard agent $(node "$INSTALL_DIR/spotguard-agent.js" --version) installed and running ($UNIT)."
else
  echo "The agent is installed but --check failed: see above, then: journalctl -u $UNIT" >&2
  exit 1
fi
