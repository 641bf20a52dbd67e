/**
 * Generates the Spark SQL parser from its grammar (src/sql/parser/grammar.ts) into
 * src/sql/parser/generated.ts, so a process does not spend half a second (seconds on a busy
 * machine) in peggy at its first query. `npm run parser:gen`; a test checks the file is current.
 */
import { writeFileSync } from 'node:fs';
import { generatedParserSource } from '../src/sql/parser/generate.js';

const target = new URL('../src/sql/parser/generated.ts', import.meta.url);
writeFileSync(target, generatedParserSource());
console.log(`wrote ${target.pathname}`);
