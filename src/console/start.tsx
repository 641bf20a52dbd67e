/** Starts the interactive console on a connected context and resolves when the user quits. */
import { format } from 'node:util';
import { render } from 'ink';
import type { MicroSpark } from '../client/context.js';
import { App } from './components/App.js';
import { historyPath } from './history.js';
import { ConsoleSession } from './session.js';
import type { LogLine } from './view-model.js';

const TONES: Record<'log' | 'info' | 'debug' | 'warn' | 'error', LogLine['tone']> = {
  log: 'result',
  info: 'result',
  debug: 'info',
  warn: 'warn',
  error: 'error',
};

/**
 * Sends `console.*` output to the session's log while the console runs, so that it is printed in
 * order with the echoed input and the result (ink's own console patch writes it at once, above an
 * input line it has not drawn yet). Returns the function that restores the console.
 */
export function captureConsole(session: ConsoleSession): () => void {
  const saved = new Map<string, unknown>();
  const target = console as unknown as Record<string, unknown>;
  for (const [method, tone] of Object.entries(TONES)) {
    saved.set(method, target[method]);
    target[method] = (...args: unknown[]) => session.dispatch({ type: 'log', tone, text: format(...args) });
  }
  return () => {
    for (const [method, f] of saved) target[method] = f;
  };
}

/** Runs the console until Ctrl-D or `:quit`; the caller stops the context afterwards. */
export async function startConsole(sc: MicroSpark, banner: string): Promise<void> {
  let quit!: () => void;
  const quitted = new Promise<void>((resolve) => (quit = resolve));
  const session = new ConsoleSession(sc, { banner, historyFile: historyPath(), onQuit: () => quit() });
  const restore = captureConsole(session);
  try {
    const app = render(<App session={session} />, { exitOnCtrlC: false, patchConsole: false });
    // Ask for the exit promise now: ink creates it lazily, and one made after the exit never settles.
    const exited = app.waitUntilExit();
    await quitted;
    app.unmount();
    await exited;
  } finally {
    restore();
  }
}
