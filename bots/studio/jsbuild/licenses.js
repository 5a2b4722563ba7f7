// Every package that ends up in the vendor files (all installed ones but esbuild), with its licence text.
const fs = require("fs");
const path = require("path");
const root = path.join(__dirname, "node_modules");
const found = [];
function visit(dir) {
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.startsWith(".")) continue;
    const full = path.join(dir, name);
    if (name.startsWith("@")) { visit(full); continue; }
    const manifest = path.join(full, "package.json");
    if (!fs.existsSync(manifest)) continue;
    const pkg = JSON.parse(fs.readFileSync(manifest, "utf8"));
    if (pkg.name === "esbuild" || pkg.name.startsWith("@esbuild/")) continue;
    const file = fs.readdirSync(full).find((f) => /^(licen[sc]e|copying)/i.test(f));
    const text = file ? fs.readFileSync(path.join(full, file), "utf8").trim() : `(no licence file; package.json says: ${pkg.license})`;
    found.push(`${pkg.name}@${pkg.version} (${pkg.license || "see text"})\n\n${text}\n`);
    const nested = path.join(full, "node_modules");
    if (fs.existsSync(nested)) visit(nested);
  }
}
visit(root);
process.stdout.write("Third-party code in codemirror.js and mermaid.min.js, with each package's licence.\n" +
  "Made by bots/studio/jsbuild/build.sh.\n\n" + found.join("\n" + "-".repeat(72) + "\n\n"));
