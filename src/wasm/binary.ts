/**
 * Reading a WebAssembly binary's shape without instantiating it: export signatures (the JS API has
 * no type reflection on Node 20), imports, memories; and capping the defined memory's maximum, so
 * that `memory.grow` past `maxMemoryMb` fails inside the guest instead of taking the process's memory.
 */

/** A value type as the binary spells it. */
export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';

/** A function signature. */
export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/** One import: module, field and kind. */
export interface ImportInfo {
  readonly module: string;
  readonly name: string;
  readonly kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
}

/** One export; `type` for functions. */
export interface ExportInfo {
  readonly name: string;
  readonly kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  readonly type?: FuncType;
}

/** What {@link parseModule} learns. `memories` are the module's own (not imported) memories, in pages. */
export interface ModuleShape {
  readonly imports: readonly ImportInfo[];
  readonly exports: readonly ExportInfo[];
  readonly memories: ReadonlyArray<{ readonly min: number; readonly max?: number; readonly flags: number }>;
}

const VALTYPES: Record<number, ValType> = {
  0x7f: 'i32',
  0x7e: 'i64',
  0x7d: 'f32',
  0x7c: 'f64',
  0x7b: 'v128',
  0x70: 'funcref',
  0x6f: 'externref',
};
const KINDS = ['function', 'table', 'memory', 'global', 'tag'] as const;

/** The binary is not a module this reader understands; the message says where. */
export class BinaryFormatError extends Error {}

class Reader {
  pos = 0;
  constructor(readonly b: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.b.length)
      throw new BinaryFormatError(`unexpected end of the module at byte ${this.pos}`);
    return this.b[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
      if (shift > 35) throw new BinaryFormatError(`LEB128 integer too long at byte ${this.pos}`);
    }
    return result;
  }
  name(): string {
    const n = this.u32();
    if (this.pos + n > this.b.length)
      throw new BinaryFormatError(`a name runs past the end at byte ${this.pos}`);
    const s = new TextDecoder('utf-8', { fatal: true }).decode(this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  valtype(): ValType {
    const t = this.byte();
    const v = VALTYPES[t];
    if (!v) throw new BinaryFormatError(`unsupported value type 0x${t.toString(16)} at byte ${this.pos - 1}`);
    return v;
  }
  limits(): { min: number; max?: number; flags: number } {
    const flags = this.byte();
    const min = this.u32();
    return flags & 1 ? { flags, min, max: this.u32() } : { flags, min };
  }
}

function u32leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

interface Section {
  readonly id: number;
  readonly start: number; // of the section's id byte
  readonly contentStart: number;
  readonly end: number;
}

function sections(bytes: Uint8Array): Section[] {
  const r = new Reader(bytes);
  const magic = [0x00, 0x61, 0x73, 0x6d];
  for (const m of magic)
    if (r.byte() !== m) throw new BinaryFormatError('not a WebAssembly module (bad magic number)');
  const version = r.byte() | (r.byte() << 8) | (r.byte() << 16) | (r.byte() << 24);
  if (version !== 1)
    throw new BinaryFormatError(`unsupported binary version ${version} (a component? only core modules run)`);
  const out: Section[] = [];
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    const contentStart = r.pos;
    const end = contentStart + size;
    if (end > bytes.length) throw new BinaryFormatError(`section ${id} runs past the end of the module`);
    out.push({ id, start, contentStart, end });
    r.pos = end;
  }
  return out;
}

/** Parses the type, import, function, memory and export sections (throws {@link BinaryFormatError}). */
export function parseModule(bytes: Uint8Array): ModuleShape {
  const types: FuncType[] = [];
  const imports: ImportInfo[] = [];
  const funcTypes: number[] = []; // type index per function index (imports first)
  const memories: Array<{ min: number; max?: number; flags: number }> = [];
  const rawExports: Array<{ name: string; kind: ExportInfo['kind']; index: number }> = [];
  for (const s of sections(bytes)) {
    const r = new Reader(bytes.subarray(0, s.end));
    r.pos = s.contentStart;
    switch (s.id) {
      case 1: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const form = r.byte();
          if (form !== 0x60)
            throw new BinaryFormatError(
              `unsupported type form 0x${form.toString(16)} (GC types are not supported)`,
            );
          const params = Array.from({ length: r.u32() }, () => r.valtype());
          const results = Array.from({ length: r.u32() }, () => r.valtype());
          types.push({ params, results });
        }
        break;
      }
      case 2: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const module = r.name();
          const name = r.name();
          const k = r.byte();
          const kind = KINDS[k];
          if (!kind) throw new BinaryFormatError(`unknown import kind ${k}`);
          if (k === 0) funcTypes.push(r.u32());
          else if (k === 1) {
            r.byte();
            r.limits();
          } else if (k === 2) r.limits();
          else if (k === 3) {
            r.valtype();
            r.byte();
          } else {
            r.byte();
            r.u32();
          }
          imports.push({ module, name, kind });
        }
        break;
      }
      case 3: {
        const n = r.u32();
        for (let i = 0; i < n; i++) funcTypes.push(r.u32());
        break;
      }
      case 5: {
        const n = r.u32();
        for (let i = 0; i < n; i++) memories.push(r.limits());
        break;
      }
      case 7: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const name = r.name();
          const k = r.byte();
          const kind = KINDS[k];
          if (!kind) throw new BinaryFormatError(`unknown export kind ${k}`);
          rawExports.push({ name, kind, index: r.u32() });
        }
        break;
      }
    }
  }
  const exports = rawExports.map((e): ExportInfo => {
    if (e.kind !== 'function') return { name: e.name, kind: e.kind };
    const t = types[funcTypes[e.index] ?? -1];
    if (!t) throw new BinaryFormatError(`export ${e.name} names function ${e.index}, which has no type`);
    return { name: e.name, kind: e.kind, type: t };
  });
  return { imports, exports, memories };
}

/**
 * Returns a copy of `bytes` whose first defined memory has maximum `maxPages` (or its own maximum
 * if lower). The caller has checked that the memory's minimum fits.
 */
export function capMemory(bytes: Uint8Array, maxPages: number): Uint8Array {
  for (const s of sections(bytes)) {
    if (s.id !== 5) continue;
    const r = new Reader(bytes.subarray(0, s.end));
    r.pos = s.contentStart;
    const n = r.u32();
    const limits = Array.from({ length: n }, () => r.limits());
    const content = [
      ...u32leb(n),
      ...limits.flatMap((l) => [0x01, ...u32leb(l.min), ...u32leb(Math.min(l.max ?? maxPages, maxPages))]),
    ];
    const section = [5, ...u32leb(content.length), ...content];
    const out = new Uint8Array(s.start + section.length + (bytes.length - s.end));
    out.set(bytes.subarray(0, s.start), 0);
    out.set(section, s.start);
    out.set(bytes.subarray(s.end), s.start + section.length);
    return out;
  }
  return bytes.slice();
}
