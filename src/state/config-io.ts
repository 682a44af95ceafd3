// Config export and import: the per-head config file (src/sampleattention/formats/config-file.ts)
// built from what the studio shows, and a file's parameters applied as the studio's.
import { buildConfig, checkConfigFits, measuresOf, modelIdentity, parseConfig, serializeConfig, type SampleConfig } from '../sampleattention/formats/config-file';
import { toModelLayers } from '../sampleattention/formats/capture-file';
import { asHeadSetting, DEFAULT_SETTINGS, settingParams, type HeadSetting } from '../sampleattention/spec/setting';
import type { ConfigDefaults } from '../sampleattention/formats/config-file';
import { scheduleRecompute, settled } from './params';
import { allParams, overridesFrom } from './selectors';
import { useStudio, type StudioState } from './store';

const get = () => useStudio.getState();
const set = (p: Partial<StudioState>) => useStudio.getState().set(p);

export function currentConfig(): SampleConfig {
  const s = get();
  if (!s.model || !s.prefill) throw new Error('Nothing to export yet: the model is still loading.');
  const c = s.model.config;
  const params = allParams(s, c.numLayers, c.numHeads);
  // The studio's defaults are one variant's; the file records both (the other at the spec's).
  const defaults: ConfigDefaults = s.defaults.variant === 'tokens'
    ? { tokens: settingParams(s.defaults), blocks: settingParams(DEFAULT_SETTINGS.blocks) }
    : { tokens: settingParams(DEFAULT_SETTINGS.tokens), blocks: settingParams(s.defaults) };
  const measured = s.layers.map((l) => l?.heads.map(measuresOf) ?? []);
  const cap = s.model.capture;
  if (cap) {
    // A capture's config names the model the file records, over all of its layers.
    if (!cap.identity) throw new Error(`Cannot export a config: ${cap.identityProblem}`);
    return buildConfig({
      model: cap.identity, text: { tokens: s.prefill.S }, defaults,
      params: toModelLayers(cap.layers, cap.identity.layers, params, () => Array.from({ length: c.numHeads }, () => ({ ...s.defaults }))),
      measured: toModelLayers(cap.layers, cap.identity.layers, measured, () => []),
    });
  }
  return buildConfig({ model: modelIdentity(s.model.name, c), text: { tokens: s.prefill.S }, defaults, params, measured });
}

export async function exportConfig(): Promise<void> {
  try {
    await settled();
    const text = serializeConfig(currentConfig());
    const blob = new Blob([text], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `sampleattention-${get().model!.name}.json`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    set({ configMessage: { ok: true, text: `Exported ${a.download}.` } });
  } catch (e) {
    set({ configMessage: { ok: false, text: (e as Error).message } });
  }
}

/** Loads a config file: validates it, checks it fits the open model (the CLI's rules: family,
 * layers, heads, kv heads, head dim), and only then applies its parameters; a bad file applies
 * nothing and its message names the field's path (ConfigError, as `sa-studio apply` says it). */
export async function importConfig(file: File): Promise<void> {
  const s = get();
  try {
    const cfg = parseConfig(await file.text(), file.name);
    if (!s.model) throw new Error('Open a model before importing a config.');
    const cap = s.model.capture;
    if (cap && !cap.identity) throw new Error(`Cannot check the config against the capture: ${cap.identityProblem}`);
    const warning = checkConfigFits(cfg, cap ? cap.identity! : modelIdentity(s.model.name, s.model.config), file.name);
    // Either variant per head. The studio's defaults are the file's tokens defaults; a blocks
    // head is an override with all of its fields. A capture's layer l is the model's layer cap.layers[l].
    const heads = cfg.layers.map((layer) => layer.heads.map((h) => asHeadSetting(h as HeadSetting)));
    const defaults: HeadSetting = { variant: 'tokens', ...cfg.defaults.tokens };
    const overrides = overridesFrom(cap ? cap.layers.map((ml) => heads[ml]) : heads, defaults);
    set({ defaults, overrides, configMessage: { ok: true, text: `Importing ${file.name}: recomputing...` } });
    await scheduleRecompute();
    set({ configMessage: { ok: true, text: `Imported ${file.name}: ${Object.keys(overrides).length} head overrides.${warning ? ` ${warning}` : ''}` } });
  } catch (e) {
    set({ configMessage: { ok: false, text: (e as Error).message } });
  }
}
