#!/usr/bin/env bash
# `npm test`: installs what the tests need, then type-checks and runs every test project.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure.sh

ensure_node_modules
ensure_apt chromium chromium   # end-to-end tests drive Debian's Chromium
ensure_apt openslide-show-properties openslide-tools libopenslide0   # slide tests check generated NDPI/MRXS with OpenSlide; the fallback reader loads libopenslide.so.0
dpkg-query -W -f='${Status}' libturbojpeg0 2>/dev/null | grep -q 'ok installed' || ensure_apt libturbojpeg-not-on-path libturbojpeg0   # tiles below a stored level: half-size JPEG decodes (koffi)
ensure_apt dciodvfy dicom3tools   # DICOM WSI output is checked against PS3.3
ensure_apt dcmdump dcmtk          # … and read back by DCMTK
[ -d /usr/lib/python3/dist-packages/pydicom ] || ensure_apt pydicom-module python3-pydicom   # … and by pydicom

echo "== lint and format (Biome)"
npx biome ci --error-on-warnings .   # any error, warning or unformatted file fails the run

echo "== type check"
(cd apps/hub && NEXT_TELEMETRY_DISABLED=1 npx next typegen >/dev/null)   # next-env.d.ts and route types
for project in packages/*/tsconfig.json apps/*/tsconfig.json bench/tsconfig.json e2e/tsconfig.json terraform/tsconfig.json; do
  dir=$(dirname "$project")
  # A workspace with no TypeScript yet has nothing to check.
  [ -n "$(find "$dir" -name '*.ts' -not -path '*/node_modules/*' -print -quit)" ] || continue
  echo "   $dir"
  npx tsc -p "$project"
done

echo "== build (integration and end-to-end tests run the built hub)"
ensure_hub_build

echo "== unit and integration tests"
vitest_report=$(mktemp)
e2e_report=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$vitest_report" || status=$?

echo "== end-to-end tests (Playwright, Chromium)"
(cd e2e && PLAYWRIGHT_JSON_OUTPUT_NAME="$e2e_report" npx playwright test --reporter=list,json) || status=$?

# One plain closing line that any CI reader understands.
node -e '
  const fs = require("fs");
  const read = (f) => { try { return JSON.parse(fs.readFileSync(f, "utf8")); } catch { return undefined; } };
  const v = read(process.argv[1]) ?? {}, e = read(process.argv[2])?.stats ?? {};
  const passed = (v.numPassedTests ?? 0) + (e.expected ?? 0);
  const failed = (v.numFailedTests ?? 0) + (e.unexpected ?? 0) + (e.flaky ?? 0);
  const skipped = (v.numPendingTests ?? 0) + (v.numTodoTests ?? 0) + (e.skipped ?? 0);
  console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$vitest_report" "$e2e_report" || true
rm -f "$vitest_report" "$e2e_report"
exit $status
