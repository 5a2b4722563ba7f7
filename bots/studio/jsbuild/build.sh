#!/bin/sh
# Rebuild bots/studio/static/vendor/ from the pinned npm packages (needs node and npm, once;
# the studio itself never runs this). Commit the results, never node_modules/.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
out=../static/vendor
npx esbuild entry.js --bundle --minify --format=iife --global-name=CM --legal-comments=none \
  --target=es2020 --outfile="$out/codemirror.js"
cp node_modules/mermaid/dist/mermaid.min.js "$out/mermaid.min.js"
node licenses.js > "$out/LICENSES.txt"
rm -rf node_modules
ls -l "$out"
