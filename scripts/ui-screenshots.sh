#!/usr/bin/env bash
# Regenerates docs/images/ui-*.png: runs the web UI's end-to-end test (test/web/ui.test.ts) with
# DISSECT_UI_SCREENSHOTS set, which saves a screenshot of each view (1280×800, and one at 400 px).
# Needs Chromium (apt-get install chromium) and a build (npm run build).
set -euo pipefail
cd "$(dirname "$0")/.."
DISSECT_UI_SCREENSHOTS="$PWD/docs/images" node --test dist/test/web/ui.test.js
