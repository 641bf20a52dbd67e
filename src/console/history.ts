/**
 * Console input history, kept across sessions in `~/.microspark_history` (or MICROSPARK_HISTORY):
 * one JSON string per line, so multi-line inputs survive; the last 1000 are kept.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Entries kept. */
export const HISTORY_MAX = 1000;

/** The history file this process uses. */
export function historyPath(): string {
  return process.env.MICROSPARK_HISTORY || join(homedir(), '.microspark_history');
}

/** Past inputs, oldest first; an unreadable or corrupt file gives what could be read. */
export function loadHistory(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const v: unknown = JSON.parse(line);
      if (typeof v === 'string') out.push(v);
    } catch {
      // a line from an interrupted write: skip it
    }
  }
  if (out.length > HISTORY_MAX) {
    const kept = out.slice(-HISTORY_MAX);
    try {
      writeFileSync(path, kept.map((e) => JSON.stringify(e)).join('\n') + '\n');
    } catch {
      // read-only home: keep going without trimming
    }
    return kept;
  }
  return out;
}

/** Appends one input; failures (a read-only home) are ignored: history is a convenience. */
export function appendHistory(path: string, entry: string): void {
  try {
    appendFileSync(path, JSON.stringify(entry) + '\n', { mode: 0o600 });
  } catch {
    // ignore
  }
}
