/**
 * Where the autotuner keeps its choices: in memory, and in Node also on disk, so the timing runs
 * once per adapter and package version. The file is `<cache dir>/webgpu-xai/tuning.json` (cache dir:
 * WEBGPU_XAI_CACHE_DIR, else XDG_CACHE_HOME, else ~/.cache), holding one object per
 * "adapter | version" with the chosen variant per key. A missing, unreadable or corrupt file is
 * treated as empty (tuning runs again); a failed write is ignored (the choice still holds for
 * this process).
 */
import { VERSION } from '../version.js';

export interface TuneStore {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  /** Where the choices persist ('memory' in a browser). */
  readonly location: string;
}

export class MemoryTuneStore implements TuneStore {
  private map = new Map<string, string>();
  readonly location: string = 'memory';
  get(key: string): string | undefined {
    return this.map.get(key);
  }
  set(key: string, value: string): void {
    this.map.set(key, value);
  }
}

type NodeFs = typeof import('node:fs');

/** The on-disk store for one adapter; its section of the file is read once, written on each set. */
export class FileTuneStore extends MemoryTuneStore {
  override readonly location: string;
  private section: string;

  private constructor(
    private fs: NodeFs,
    private file: string,
    adapter: string,
  ) {
    super();
    this.location = file;
    this.section = `${adapter} | webgpu-xai ${VERSION}`;
    for (const [k, v] of Object.entries(this.readAll()[this.section] ?? {})) if (typeof v === 'string') super.set(k, v);
  }

  static async open(adapter: string): Promise<FileTuneStore> {
    const load = (name: string) => import(name); // not literals, so browser bundlers leave Node modules alone
    const fs = (await load('node:fs')) as NodeFs;
    const os = (await load('node:os')) as typeof import('node:os');
    const path = (await load('node:path')) as typeof import('node:path');
    const base = process.env.WEBGPU_XAI_CACHE_DIR || process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
    return new FileTuneStore(fs, path.join(base, 'webgpu-xai', 'tuning.json'), adapter);
  }

  private readAll(): Record<string, Record<string, unknown>> {
    try {
      const all = JSON.parse(this.fs.readFileSync(this.file, 'utf8'));
      return all && typeof all === 'object' && !Array.isArray(all) ? all : {};
    } catch {
      return {};
    }
  }

  override set(key: string, value: string): void {
    super.set(key, value);
    try {
      const all = this.readAll(); // another process may have added its own choices meanwhile
      all[this.section] = { ...(all[this.section] ?? {}), [key]: value };
      const dir = this.file.slice(0, this.file.lastIndexOf('/'));
      this.fs.mkdirSync(dir, { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      this.fs.writeFileSync(tmp, JSON.stringify(all, null, 1) + '\n');
      this.fs.renameSync(tmp, this.file);
    } catch {
      // A read-only home or a full disk costs a retune next time, nothing more.
    }
  }
}
