#!/usr/bin/env bash
# `npm test`: installs what the tests need, then type-checks and runs every test project.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure.sh

ensure_node_modules

echo "== type check"
for project in packages/*/tsconfig.json apps/*/tsconfig.json bench/tsconfig.json; do
  dir=$(dirname "$project")
  # A workspace with no TypeScript yet has nothing to check.
  [ -n "$(find "$dir" -name '*.ts' -not -path '*/node_modules/*' -print -quit)" ] || continue
  echo "   $dir"
  npx tsc -p "$project"
done

echo "== unit and integration tests"
report=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=$?
# One plain closing line that any CI reader understands.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" || true
rm -f "$report"
exit $status
