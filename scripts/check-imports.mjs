#!/usr/bin/env node
// The import rules of docs/architecture.md, checked on the source (imports of every kind, type-only
// and dynamic ones included): no import cycle; gpu/ imports nothing of src/, cli/ or bench/;
// src/ui and src/state import nothing of gpu/; the studio's engine (src/engine) is imported only
// by the studio side (src/engine, src/state, src/ui, src/main.tsx), its benchmark (bench/studio.ts),
// stories and tests. Prints what breaks a rule; exit 1 when anything does.
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const files = execSync('git ls-files --cached --others --exclude-standard', { cwd: root, encoding: 'utf8' })
  .split('\n').filter((f) => /\.(ts|tsx|mjs)$/.test(f) && existsSync(resolve(root, f)));
const exts = ['', '.ts', '.tsx', '.mjs', '.js', '/index.ts'];
const edges = new Map();
for (const f of files) {
  const src = readFileSync(resolve(root, f), 'utf8');
  const out = new Set();
  for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g)) {
    const base = resolve(root, dirname(f), m[2]);
    const hit = exts.map((e) => base + e).find((p) => existsSync(p) && statSync(p).isFile());
    if (hit) out.add(relative(root, hit));
  }
  edges.set(f, out);
}

const problems = [];
const under = (f, dir) => f === dir || f.startsWith(dir + '/');
for (const [f, deps] of edges) {
  for (const d of deps) {
    if (under(f, 'gpu') && ['src', 'cli', 'bench'].some((x) => under(d, x))) problems.push(`gpu imports outside gpu/: ${f} -> ${d}`);
    if ((under(f, 'src/ui') || under(f, 'src/state')) && under(d, 'gpu')) problems.push(`UI/state imports gpu/: ${f} -> ${d}`);
    const studio = ['src/engine', 'src/state', 'src/ui', 'src/main.tsx', 'bench/studio.ts', 'stories', 'tests'].some((x) => under(f, x));
    if (under(d, 'src/engine') && !studio) problems.push(`the studio's engine imported from outside the studio: ${f} -> ${d}`);
  }
}

// Cycles: Tarjan's strongly connected components.
let index = 0;
const idx = new Map(), low = new Map(), stack = [], on = new Set(), cycles = [];
function strong(v) {
  idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!edges.has(w)) continue;
    if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do { w = stack.pop(); on.delete(w); comp.push(w); } while (w !== v);
    if (comp.length > 1 || (edges.get(v)?.has(v))) cycles.push(comp.sort());
  }
}
for (const v of edges.keys()) if (!idx.has(v)) strong(v);
for (const c of cycles) problems.push(`import cycle: ${c.join(' <-> ')}`);

const n = [...edges.values()].reduce((a, s) => a + s.size, 0);
if (problems.length) {
  console.log(problems.join('\n'));
  console.log(`${problems.length} problem(s) in ${files.length} files, ${n} imports.`);
  process.exit(1);
}
console.log(`no import cycles, layer rules hold: ${files.length} files, ${n} imports.`);
