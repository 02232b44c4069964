/**
 * The layering rule, read from the import statements of src/ and machines/: imports run one way,
 * machines <- providers / engine (session) <- transports <- server (http) <- main. A folder may
 * import its own files and folders of a lower or equal layer, never a higher one; no two folders
 * import each other (directly or round a loop), and no two files either. Outside src/providers/,
 * only the provider ports (src/providers/*.ts) are imported, never a vendor's folder, except by
 * the composition root.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Layer of each folder (a folder is the first level under src/, or machines/; files directly in
 * src/ are their own folder). Lower numbers are imported by higher ones. A new folder must be
 * placed here before it is used.
 */
const LAYER: Record<string, number> = {
  machines: 0,
  'src/privacy': 1,
  'src/config.ts': 1,
  'src/logger.ts': 1,
  'src/load-dotenv.ts': 1,
  'src/audio': 2,
  'src/recording': 2,
  'src/store': 2,
  'src/metrics': 2,
  'src/inspect': 2,
  'src/ops': 2,
  'src/loadtest': 3,
  'src/providers': 3,
  'src/reports': 3,
  'src/session': 4,
  'src/replay': 4,
  'src/transports': 5,
  'src/telemetry': 5,
  'src/http': 6,
  'src/cli': 7,
  'src/main.ts': 7,
};

/** The composition root may wire concrete vendors. */
const COMPOSITION_LAYER = 6;

/**
 * Imports that break the rule today, each with the work that removes it. Keep this list short;
 * the test fails when an entry no longer occurs, so a fixed one cannot linger.
 */
const KNOWN_EXCEPTIONS: { from: string; to: string; todo: string }[] = [];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** Relative imports of a file, resolved to repository paths (`.js` specifiers name `.ts` files). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      const ts = target.replace(/\.js$/, '.ts');
      if (fs.existsSync(path.join(ROOT, ts))) return ts;
      if (fs.existsSync(path.join(ROOT, `${target}.ts`))) return `${target}.ts`;
      if (fs.existsSync(path.join(ROOT, target, 'index.ts'))) return `${target}/index.ts`;
      return target;
    });
}

/** The folder a file belongs to, for the layer table. */
function folderOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'machines') return 'machines';
  return parts.length === 2 ? file : `${parts[0]}/${parts[1]}`;
}

const isVendorFile = (file: string) => /^src\/providers\/[^/]+\//.test(file);

/** Strongly connected components of more than one node (Tarjan), i.e. the import loops. */
function loops(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

const files = [...sourceFiles('src'), ...sourceFiles('machines')];
const edges = files.flatMap((from) => importsOf(from).map((to) => ({ from, to })));
const isKnown = (e: { from: string; to: string }) =>
  KNOWN_EXCEPTIONS.some((k) => k.from === e.from && k.to === e.to);

describe('the import layers', () => {
  it('places every folder of src/ and machines/ in a layer', () => {
    const unplaced = [...new Set(files.map(folderOf))].filter((f) => LAYER[f] === undefined);
    expect(unplaced).toEqual([]);
  });

  it('has no import from a lower layer to a higher one', () => {
    const upward = edges
      .filter((e) => !isKnown(e))
      .filter((e) => (LAYER[folderOf(e.to)] ?? Infinity) > (LAYER[folderOf(e.from)] ?? -Infinity))
      .map((e) => `${e.from} -> ${e.to}`);
    expect(upward).toEqual([]);
  });

  it('imports no vendor folder of src/providers/ from outside it, except in the composition root', () => {
    const offenders = edges
      .filter((e) => !isKnown(e))
      .filter((e) => isVendorFile(e.to) && folderOf(e.from) !== 'src/providers')
      .filter((e) => (LAYER[folderOf(e.from)] ?? 0) < COMPOSITION_LAYER)
      .map((e) => `${e.from} -> ${e.to}`);
    expect(offenders).toEqual([]);
  });

  it('has no loop between folders', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
      const [a, b] = [folderOf(e.from), folderOf(e.to)];
      if (a === b) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)!.add(b);
    }
    expect(loops(graph)).toEqual([]);
  });

  it('has no loop between files', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
      if (!graph.has(e.from)) graph.set(e.from, new Set());
      graph.get(e.from)!.add(e.to);
    }
    expect(loops(graph)).toEqual([]);
  });

  it('lists only known exceptions that still occur', () => {
    const stale = KNOWN_EXCEPTIONS.filter((k) => !edges.some((e) => e.from === k.from && e.to === k.to));
    expect(stale).toEqual([]);
  });
});
