/**
 * Guests for the WASM tests: the text-format guests compiled with wabt and the AssemblyScript guest
 * compiled with asc, each once per test process; the C and Rust guests are the committed builds.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import wabtInit from 'wabt';

const here = (p: string) => fileURLToPath(new URL(`./fixtures/${p}`, import.meta.url));

/** Path of a committed fixture build (c/strdist.wasm, rust/strdist.wasm). */
export const fixturePath = here;

/** Compiles a .wat fixture to bytes. */
export async function wat(file: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat(file, readFileSync(here(file), 'utf8'));
  try {
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

/** Compiles the AssemblyScript fixture (stub runtime, no abort import: a guest imports nothing). */
export async function assemblyScript(): Promise<Uint8Array> {
  const r = await asc.compileString(
    { 'guest.ts': readFileSync(here('as/guest.ts'), 'utf8') },
    { optimizeLevel: 3, runtime: 'stub', use: ['abort='] },
  );
  if (r.error || !r.binary) throw new Error(`asc failed: ${String(r.error)}`);
  return r.binary;
}

/**
 * Compiles the arrow-udf guest (RisingWave's ABI, with its own Arrow IPC reader and writer): the
 * minimal runtime, whose heap frees what the host deallocates.
 */
export async function arrowUdfGuest(): Promise<Uint8Array> {
  const r = await asc.compileString(
    { 'arrow-udf.ts': readFileSync(here('as/arrow-udf.ts'), 'utf8') },
    { optimizeLevel: 3, runtime: 'minimal', use: ['abort='] },
  );
  if (r.error || !r.binary) throw new Error(`asc failed: ${String(r.error)}`);
  return r.binary;
}

/** Levenshtein distance in JavaScript (what the C and Rust guests compute, over UTF-8 bytes). */
export function levenshtein(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  const row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(diag + (x[i - 1] === y[j - 1] ? 0 : 1), up + 1, row[j - 1]! + 1);
      diag = up;
    }
  }
  return row[y.length]!;
}
