/** Starts the interactive console on a connected context and resolves when the user quits. */
import { render } from 'ink';
import type { MicroSpark } from '../client/context.js';
import { App } from './components/App.js';
import { historyPath } from './history.js';
import { ConsoleSession } from './session.js';

/** Runs the console until Ctrl-D or `:quit`; the caller stops the context afterwards. */
export async function startConsole(sc: MicroSpark, banner: string): Promise<void> {
  let quit!: () => void;
  const quitted = new Promise<void>((resolve) => (quit = resolve));
  const session = new ConsoleSession(sc, { banner, historyFile: historyPath(), onQuit: () => quit() });
  const app = render(<App session={session} />, { exitOnCtrlC: false, patchConsole: true });
  // Ask for the exit promise now: ink creates it lazily, and one made after the exit never settles.
  const exited = app.waitUntilExit();
  await quitted;
  app.unmount();
  await exited;
}
