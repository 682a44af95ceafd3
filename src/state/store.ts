// The studio's state: one zustand store. It keeps what the user chose and what the engine
// returned; anything computable from those (e.g. the chosen head's label) is derived by selectors.
import { create } from 'zustand';
import type { LoadedModel, PooledMap, PrefillResult, Progress } from '../engine/types';

export type Status = 'starting' | 'loading' | 'running' | 'ready' | 'error' | 'no-webgpu';

export interface StudioState {
  status: Status;
  message: string;
  progress: Progress | null;
  adapter: string;
  model: LoadedModel | null;
  textName: string;
  prefill: PrefillResult | null;
  chosen: { layer: number; head: number };
  map: PooledMap | null;
  set(partial: Partial<Omit<StudioState, 'set'>>): void;
}

export const useStudio = create<StudioState>((set) => ({
  status: 'starting',
  message: '',
  progress: null,
  adapter: '',
  model: null,
  textName: '',
  prefill: null,
  chosen: { layer: 0, head: 0 },
  map: null,
  set: (partial) => set(partial),
}));

export const headLabel = (s: Pick<StudioState, 'chosen'>) => `Layer ${s.chosen.layer} head ${s.chosen.head}`;
