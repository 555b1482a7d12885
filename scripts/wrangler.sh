#!/usr/bin/env bash
# Runs the pinned wrangler with telemetry and network lookups off (the toml setting alone is not enough).
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
exec "$(dirname "$0")/../node_modules/.bin/wrangler" "$@"
