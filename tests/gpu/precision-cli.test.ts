import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { gpu } from '../helpers/gpu';
import { missingForTensorCores } from '../../gpu/tensorcore/support';

// --precision f16 is the user's choice: where the adapter lacks the features it exits 2 and names
// them (never a silent fallback to f32); where it has them, the run succeeds.
test('sa-studio run --precision f16 names the missing features (exit 2) or runs', async () => {
  const ctx = await gpu();
  const missing = missingForTensorCores(ctx);
  const r = spawnSync(process.execPath, ['bin/sa-studio.mjs', 'run', '--model', 'default', '--text', 'public/texts/studio-intro.txt', '--max-tokens', '8', '--precision', 'f16'], { encoding: 'utf8' });
  if (missing.length === 0) {
    assert.equal(r.status, 0, r.stderr);
    return;
  }
  assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
  for (const m of missing) assert.ok(r.stderr.includes(m), `stderr names ${m}: ${r.stderr}`);
  assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
  const bad = spawnSync(process.execPath, ['bin/sa-studio.mjs', 'run', '--model', 'default', '--text', 'public/texts/studio-intro.txt', '--precision', 'f8'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--precision must be f32 or f16/);
});
