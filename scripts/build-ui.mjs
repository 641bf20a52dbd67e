// Bundles the web UI's pages (src/ui/web/main.ts, with dagre) into dist/src/ui/web/app.js, which
// the UI server serves as it is (from source, the server bundles them itself on first request).
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../src/ui/web/main.ts', import.meta.url).pathname],
  outfile: new URL('../dist/src/ui/web/app.js', import.meta.url).pathname,
  bundle: true,
  format: 'iife',
  target: 'es2020',
  minify: true,
  logLevel: 'warning',
});
