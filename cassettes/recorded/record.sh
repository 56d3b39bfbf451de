#!/usr/bin/env bash
# Re-records the demo cassettes in this folder through the router, in record mode, against a local upstream that
# serves the hand-written OpenAI-format answers of DemoCassettesTest. Recording twice changes no byte.
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q -pl server -am test -Dtest=DemoCassettesTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dllmrouter.demo.rewrite=true
git status --short cassettes/recorded
