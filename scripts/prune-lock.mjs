// Removes from package-lock.json the optional platform packages that the lock declares but does not
// contain (the registry this project installs from has no darwin/win32/linux-arm builds of
// msgpackr-extract). Without this, `npm ci` reports the lock as out of sync. Run after `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
let removed = 0;
for (const [key, entry] of Object.entries(lock.packages ?? {})) {
  if (!entry.optionalDependencies) continue;
  for (const dep of Object.keys(entry.optionalDependencies)) {
    const nested = `${key ? key + '/' : ''}node_modules/${dep}`;
    if (!lock.packages[`node_modules/${dep}`] && !lock.packages[nested]) {
      delete entry.optionalDependencies[dep];
      removed++;
    }
  }
}
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(`prune-lock: removed ${removed} optional dependencies absent from the lock`);
