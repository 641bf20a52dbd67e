/**
 * A minimal terminal emulator for PTY tests: enough of VT100/xterm (printable text with
 * auto-wrap, CR, LF, BS, cursor moves, erase in line/display, scrolling into a scrollback) to
 * tell what a user would see. Colours and modes are ignored; every character is one cell wide.
 * A resize either keeps the text of each row and cuts what no longer fits (xterm), or reflows:
 * re-wraps the lines that auto-wrap made (VTE, xterm.js, kitty, iTerm2, Windows Terminal).
 */
export class Screen {
  /** Rows that scrolled off the top, oldest first. */
  readonly scrollback: string[] = [];
  private rowsText: string[][];
  /** Whether a row continues the one above it (auto-wrap made it). */
  private continued: boolean[];
  private x = 0;
  private y = 0;
  /** xterm's pending wrap: the last column was written, the next printable wraps first. */
  private wrapPending = false;
  private rest = '';

  constructor(
    public cols: number,
    public rows: number,
  ) {
    this.rowsText = Array.from({ length: rows }, () => []);
    this.continued = Array.from({ length: rows }, () => false);
  }

  /** The visible rows, trailing blanks removed. */
  lines(): string[] {
    return this.rowsText.map((r) => r.join('').replace(/\s+$/, ''));
  }

  /** Scrollback then the visible rows, trailing blank rows removed. */
  all(): string[] {
    const out = [...this.scrollback, ...this.lines()];
    while (out.length > 0 && out.at(-1) === '') out.pop();
    return out;
  }

  /** The terminal is resized: `reflow` re-wraps auto-wrapped lines, otherwise rows are cut. */
  resize(cols: number, rows: number, reflow = false): void {
    if (reflow) this.reflow(cols);
    else for (const r of this.rowsText) r.length = Math.min(r.length, cols);
    while (this.rowsText.length > rows) {
      // Rows below the cursor go first, then rows above it scroll into the scrollback.
      if (this.rowsText.length - 1 > this.y) {
        this.rowsText.pop();
        this.continued.pop();
      } else {
        this.scrollback.push(this.rowsText.shift()!.join('').replace(/\s+$/, ''));
        this.continued.shift();
        this.y--;
      }
    }
    while (this.rowsText.length < rows) {
      this.rowsText.push([]);
      this.continued.push(false);
    }
    this.cols = cols;
    this.rows = rows;
    this.x = Math.min(this.x, cols - 1);
    this.wrapPending = false;
  }

  private reflow(cols: number): void {
    const rowsOut: string[][] = [];
    const contOut: boolean[] = [];
    let cursor: [number, number] | undefined;
    for (let r = 0; r < this.rowsText.length;) {
      // A logical line: this row and the rows that continue it.
      const chars: string[] = [];
      let cursorAt: number | undefined;
      do {
        if (r === this.y) cursorAt = chars.length + this.x;
        const row = [...this.rowsText[r]!];
        while (row.length < this.cols && this.continued[r + 1] === true) row.push(' ');
        chars.push(...row);
        r++;
      } while (r < this.rowsText.length && this.continued[r] === true);
      while (chars.length > 0 && chars.at(-1) === ' ' && (cursorAt === undefined || chars.length > cursorAt))
        chars.pop();
      const n = Math.max(1, Math.ceil(chars.length / cols));
      const first = rowsOut.length;
      for (let k = 0; k < n; k++) {
        rowsOut.push(chars.slice(k * cols, (k + 1) * cols));
        contOut.push(k > 0);
      }
      if (cursorAt !== undefined) {
        const row = Math.min(n - 1, Math.floor(cursorAt / cols));
        cursor = [first + row, cursorAt - row * cols];
      }
    }
    this.rowsText = rowsOut;
    this.continued = contOut;
    if (cursor) [this.y, this.x] = cursor;
  }

  /** Feeds output written to the terminal. */
  write(data: string): void {
    const s = this.rest + data;
    this.rest = '';
    let i = 0;
    while (i < s.length) {
      const c = s[i]!;
      if (c === '\x1b') {
        if (i + 1 >= s.length) {
          this.rest = s.slice(i);
          return;
        }
        const n = s[i + 1]!;
        if (n === '[') {
          // eslint-disable-next-line no-control-regex -- a CSI sequence
          const m = /^\x1b\[([?>=]?)([0-9;]*)([ -/]*)([@-~])/.exec(s.slice(i));
          if (!m) {
            // eslint-disable-next-line no-control-regex -- an unfinished CSI sequence
            if (/^\x1b\[[?>=]?[0-9;]*[ -/]*$/.test(s.slice(i))) {
              this.rest = s.slice(i);
              return;
            }
            i += 2;
            continue;
          }
          if (m[1] === '')
            this.csi(
              m[4]!,
              m[2]!.split(';').map((p) => (p === '' ? NaN : Number(p))),
            );
          i += m[0].length;
          continue;
        }
        if (n === ']') {
          // OSC: up to BEL or ST.
          // eslint-disable-next-line no-control-regex -- BEL or ESC \\ ends an OSC sequence
          const end = s.slice(i).search(/\x07|\x1b\\/);
          if (end < 0) {
            this.rest = s.slice(i);
            return;
          }
          i += end + (s[i + end] === '\x07' ? 1 : 2);
          continue;
        }
        i += 2; // ESC 7, ESC 8, ESC = …: ignored
        continue;
      }
      if (c === '\r') {
        this.x = 0;
        this.wrapPending = false;
      } else if (c === '\n') {
        this.lineFeed();
      } else if (c === '\b') {
        this.x = Math.max(0, this.x - 1);
        this.wrapPending = false;
      } else if (c >= ' ') {
        this.put(c);
      }
      i++;
    }
  }

  private put(c: string): void {
    if (this.wrapPending) {
      this.x = 0;
      this.lineFeed();
      this.wrapPending = false;
      this.continued[this.y] = true;
    }
    const row = this.rowsText[this.y]!;
    while (row.length < this.x) row.push(' ');
    row[this.x] = c;
    if (this.x === this.cols - 1) this.wrapPending = true;
    else this.x++;
  }

  private lineFeed(): void {
    this.wrapPending = false;
    if (this.y < this.rows - 1) {
      this.y++;
      return;
    }
    this.scrollback.push(this.rowsText.shift()!.join('').replace(/\s+$/, ''));
    this.continued.shift();
    this.rowsText.push([]);
    this.continued.push(false);
  }

  private csi(final: string, params: number[]): void {
    const p = (k: number, d: number) => (Number.isNaN(params[k] ?? NaN) ? d : params[k]!);
    this.wrapPending = false;
    switch (final) {
      case 'A':
        this.y = Math.max(0, this.y - p(0, 1));
        break;
      case 'B':
        this.y = Math.min(this.rows - 1, this.y + p(0, 1));
        break;
      case 'C':
        this.x = Math.min(this.cols - 1, this.x + p(0, 1));
        break;
      case 'D':
        this.x = Math.max(0, this.x - p(0, 1));
        break;
      case 'E':
        this.y = Math.min(this.rows - 1, this.y + p(0, 1));
        this.x = 0;
        break;
      case 'F':
        this.y = Math.max(0, this.y - p(0, 1));
        this.x = 0;
        break;
      case 'G':
        this.x = Math.min(this.cols - 1, p(0, 1) - 1);
        break;
      case 'H':
      case 'f':
        this.y = Math.min(this.rows - 1, p(0, 1) - 1);
        this.x = Math.min(this.cols - 1, p(1, 1) - 1);
        break;
      case 'K': {
        const row = this.rowsText[this.y]!;
        const mode = p(0, 0);
        if (mode === 0) row.length = Math.min(row.length, this.x);
        else if (mode === 1) for (let k = 0; k <= this.x && k < row.length; k++) row[k] = ' ';
        else {
          row.length = 0;
          this.continued[this.y] = false;
        }
        break;
      }
      case 'J': {
        const mode = p(0, 0);
        if (mode === 0) {
          this.rowsText[this.y]!.length = Math.min(this.rowsText[this.y]!.length, this.x);
          for (let k = this.y + 1; k < this.rows; k++) {
            this.rowsText[k] = [];
            this.continued[k] = false;
          }
        } else if (mode === 1) {
          for (let k = 0; k < this.y; k++) this.rowsText[k] = [];
          const row = this.rowsText[this.y]!;
          for (let k = 0; k <= this.x && k < row.length; k++) row[k] = ' ';
        } else if (mode === 2) {
          for (let k = 0; k < this.rows; k++) {
            this.rowsText[k] = [];
            this.continued[k] = false;
          }
        } else if (mode === 3) {
          this.scrollback.length = 0;
        }
        break;
      }
      default:
        break; // SGR (m), modes (h/l) and the rest do not move text
    }
  }
}
