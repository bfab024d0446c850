// A restricted unpickler for the data-only pickles torch.save writes (protocol 2, plus the cheap
// protocol 3-5 opcodes: framing, short strings, bytes, floats, lists, STACK_GLOBAL). It never runs
// anything: a GLOBAL is looked up in the caller's allow-list, and REDUCE may only call an allowed
// builder; any other global, callable or opcode is an XaiError that names it. Python values map
// to JavaScript as: None -> null, bool -> boolean, int -> number (bigint beyond 2^53),
// float -> number, str -> string, bytes -> Uint8Array, tuple and list -> array, dict -> Map.
// The memo lets a pickle reuse an object anywhere, so a few bytes can describe a structure that
// doubles at every level (t1 = (t0, t0), t2 = (t1, t1), ...): harmless as shared references, but
// exponential for anything that walks it (printing a key, hashing it). Every container's size
// counted as if its references were copies (elements, nested ones included) is kept, and a pickle
// whose containers exceed a budget proportional to its length is refused.
import { XaiError } from '../errors.js';

/** An allowed global: a marker value (e.g. a storage type) and, if it may be called, its builder. */
export class PyGlobal {
  constructor(
    readonly name: string,
    readonly call?: (args: unknown[]) => unknown,
  ) {}
}

export interface UnpickleOptions {
  /** Allowed globals by "module.name". */
  globals: ReadonlyMap<string, PyGlobal>;
  /** Resolves a BINPERSID id (torch: the storage tuple); absent: persistent ids are refused. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Most elements one container may expand to (default: 16 per pickle byte, plus 2^20). */
  maxElements?: number;
}

const MARK = Symbol('mark');

/** Names of some opcodes this reader refuses (the object-building ones and protocol 0 text). */
const REFUSED_NAMES = new Map<number, string>([
  [0x69, 'INST'],
  [0x6f, 'OBJ'],
  [0x81, 'NEWOBJ'],
  [0x92, 'NEWOBJ_EX'],
  [0x50, 'PERSID'],
  [0x49, 'INT'],
  [0x4c, 'LONG'],
  [0x53, 'STRING'],
  [0x56, 'UNICODE'],
  [0x46, 'FLOAT'],
  [0x82, 'EXT1'],
  [0x83, 'EXT2'],
  [0x84, 'EXT4'],
]);

/** Unpickles `bytes`; `name` (e.g. "m.pth: m/data.pkl") prefixes every error message. */
export function unpickle(bytes: Uint8Array, name: string, opts: UnpickleOptions): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opStart = 0;

  const fail = (msg: string): never => {
    throw new XaiError(`${name}: ${msg}`);
  };
  const maxElements = opts.maxElements ?? 16 * bytes.length + (1 << 20);
  const sizes = new WeakMap<object, number>();
  const sizeOf = (v: unknown): number => (typeof v === 'object' && v !== null ? (sizes.get(v) ?? 1) : 1);
  /** Adds `items` to container c's expanded size; returns c. */
  const grow = <T extends object>(c: T, items: readonly unknown[]): T => {
    let s = sizes.get(c) ?? 1;
    for (const v of items) s += sizeOf(v);
    if (s > maxElements)
      fail(`pickle structure too large: shared objects expand to over ${maxElements} elements (offset ${opStart})`);
    sizes.set(c, s);
    return c;
  };
  const take = (n: number): number => {
    if (n < 0 || pos + n > bytes.length) fail(`truncated pickle (opcode at offset ${opStart} needs ${n} more bytes)`);
    const p = pos;
    pos += n;
    return p;
  };
  const u8 = () => view.getUint8(take(1));
  const u32 = () => view.getUint32(take(4), true);
  const u64 = () => {
    const v = view.getBigUint64(take(8), true);
    return v > BigInt(bytes.length) ? fail(`corrupt pickle (length ${v} at offset ${opStart})`) : Number(v);
  };
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const utf8 = (n: number): string => {
    const s = bytes.subarray(take(n), pos);
    try {
      return decoder.decode(s);
    } catch {
      return fail(`corrupt pickle (bad UTF-8 string at offset ${opStart})`);
    }
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail(`truncated pickle (unterminated line at offset ${opStart})`);
    return utf8(end - pos + 1).slice(0, -1);
  };
  const pop = (): unknown => {
    const v = stack.length ? stack.pop() : MARK;
    return v === MARK ? fail(`corrupt pickle (stack underflow at offset ${opStart})`) : v;
  };
  const top = (): unknown => {
    const v = pop();
    stack.push(v);
    return v;
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) return fail(`corrupt pickle (no mark at offset ${opStart})`);
    const items = stack.splice(m);
    items.shift(); // the MARK itself
    return items;
  };
  const asMap = (v: unknown): Map<unknown, unknown> =>
    v instanceof Map ? v : fail(`corrupt pickle (item assignment to a non-dict at offset ${opStart})`);
  const asList = (v: unknown): unknown[] =>
    Array.isArray(v) ? v : fail(`corrupt pickle (append to a non-list at offset ${opStart})`);
  const global = (module: string, attr: string) => {
    const full = `${module}.${attr}`;
    if (!/^[A-Za-z_][\w.]*$/.test(full)) fail(`corrupt pickle (bad global name at offset ${opStart})`);
    const g = opts.globals.get(full);
    return (
      g ??
      fail(
        `refusing to load the global ${full} (only tensors and plain containers are allowed; save model.state_dict() instead)`,
      )
    );
  };
  /** A little-endian two's-complement integer of n bytes (capped: no state_dict needs more). */
  const long = (n: number): number | bigint => {
    if (n > 256) fail(`corrupt pickle (integer of ${n} bytes at offset ${opStart})`);
    const p = take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[p + i]);
    if (n > 0 && bytes[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  while (true) {
    if (pos >= bytes.length) fail('truncated pickle (no STOP opcode)');
    opStart = pos;
    const op = bytes[pos++];
    // biome-ignore format: a table of opcodes, one a line with its name
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME: a length hint only
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) fail(`corrupt pickle (STOP with ${stack.length} values on the stack)`);
        return stack[0];
      case 0x28: marks.push(stack.length); stack.push(MARK); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(view.getInt32(take(4), true)); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(view.getUint16(take(2), true)); break; // BININT2
      case 0x8a: stack.push(long(u8())); break; // LONG1
      case 0x8b: stack.push(long(u32())); break; // LONG4
      case 0x47: stack.push(view.getFloat64(take(8), false)); break; // BINFLOAT (big-endian)
      case 0x58: stack.push(utf8(u32())); break; // BINUNICODE
      case 0x8c: stack.push(utf8(u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(utf8(u64())); break; // BINUNICODE8
      case 0x42: { const n = u32(); stack.push(bytes.slice(take(n), pos)); break; } // BINBYTES
      case 0x43: { const n = u8(); stack.push(bytes.slice(take(n), pos)); break; } // SHORT_BINBYTES
      case 0x8e: { const n = u64(); stack.push(bytes.slice(take(n), pos)); break; } // BINBYTES8
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x74: case 0x6c: { const items = popMark(); stack.push(grow(items, items)); break; } // TUPLE, LIST
      case 0x85: { const t = [pop()]; stack.push(grow(t, t)); break; } // TUPLE1
      case 0x86: { const b = pop(); const t = [pop(), b]; stack.push(grow(t, t)); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const t = [pop(), b, c]; stack.push(grow(t, t)); break; } // TUPLE3
      case 0x64: { // DICT
        const items = popMark();
        if (items.length % 2) fail(`corrupt pickle (odd number of dict items at offset ${opStart})`);
        const d = new Map();
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(grow(d, items));
        break;
      }
      case 0x61: { const v = pop(); grow(asList(top()), [v]).push(v); break; } // APPEND
      case 0x65: { // APPENDS (a loop: spreading 100k items into push() overflows the call stack)
        const items = popMark();
        const list = grow(asList(top()), items);
        for (const v of items) list.push(v);
        break;
      }
      case 0x73: { const v = pop(); const k = pop(); grow(asMap(top()), [k, v]).set(k, v); break; } // SETITEM
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2) fail(`corrupt pickle (odd number of dict items at offset ${opStart})`);
        const d = grow(asMap(top()), items);
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`corrupt pickle (memo key ${k} not set, offset ${opStart})`);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: { const module = line(); stack.push(global(module, line())); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const attr = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof attr !== 'string') fail(`corrupt pickle (STACK_GLOBAL without names at offset ${opStart})`);
        stack.push(global(module as string, attr as string));
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail(`unexpected persistent id at offset ${opStart}`);
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const f = pop();
        if (!(f instanceof PyGlobal) || !f.call) {
          return fail(`refusing to call ${f instanceof PyGlobal ? f.name : 'a non-global'} (offset ${opStart})`);
        }
        if (!Array.isArray(args)) fail(`corrupt pickle (REDUCE arguments are not a tuple, offset ${opStart})`);
        stack.push(f.call(args as unknown[]));
        break;
      }
      case 0x62: { // BUILD: only a dict's attribute state (OrderedDict._metadata) is accepted, and dropped
        pop();
        if (!(top() instanceof Map)) fail(`refusing BUILD on a non-dict object (offset ${opStart})`);
        break;
      }
      default: {
        const hex = `0x${op.toString(16).padStart(2, '0')}`;
        const name = REFUSED_NAMES.get(op);
        const what = name ? `${name} (${hex})` : hex;
        fail(`unsupported pickle opcode ${what} at offset ${opStart}`);
      }
    }
  }
}
