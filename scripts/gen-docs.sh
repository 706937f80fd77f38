#!/usr/bin/env bash
# Regenerates the files derived from the command line's definition (swift-argument-parser):
#   deploy/completions/failoverctl.bash, _failoverctl (zsh), failoverctl.fish
#       from `failoverctl --generate-completion-script SHELL`;
#   deploy/man/failoverctl.1
#       from the argument parser's generate-manual plugin, dated by the last commit that
#       changed the CLI (so regenerating an unchanged CLI changes nothing).
# Run it after changing a command, an option or a help text, and commit the result:
# GeneratedDocsTests fails while the committed files differ from what the binary generates.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
"$SWIFT" build --product failoverctl >/dev/null
BIN="$("$SWIFT" build --show-bin-path)/failoverctl"

mkdir -p deploy/completions deploy/man
"$BIN" --generate-completion-script bash >deploy/completions/failoverctl.bash
"$BIN" --generate-completion-script zsh >deploy/completions/_failoverctl
"$BIN" --generate-completion-script fish >deploy/completions/failoverctl.fish

date=$(git log -1 --format=%cs -- Sources/failoverctl 2>/dev/null || true)
date=${date:-$(date -u +%F)}
"$SWIFT" package --allow-writing-to-package-directory generate-manual --configuration debug \
    --date "$date" --authors "the failoverctl authors" >/dev/null
cp .build/plugins/GenerateManual/outputs/failoverctl/failoverctl.1 deploy/man/failoverctl.1

echo "generated: deploy/completions/{failoverctl.bash,_failoverctl,failoverctl.fish} deploy/man/failoverctl.1 (dated $date)"
