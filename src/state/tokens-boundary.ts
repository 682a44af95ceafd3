// The boundary between the studio's state and its engine for SampleAttention's variants: the
// engine takes a HeadSetting per head (either variant) and returns tagged results; the studio's
// state holds SampleParams per head and its views draw `tokens` heads (the variants' UI is a later
// task). What the state sends is therefore tokens, and what comes back is narrowed to tokens here,
// with a named error should a blocks head ever arrive.
import type { LayerResult } from '../engine/types';
import type { SampleParams } from '../sampleattention/spec/params';
import type { HeadSelection } from '../sampleattention/spec/selection';
import { tokensResults, tokensSetting, type HeadResult, type TokensSetting } from '../sampleattention/spec/setting';

export const toSettings = (params: readonly SampleParams[]): TokensSetting[] => params.map(tokensSetting);

export const toAllSettings = (params: readonly (readonly SampleParams[])[]): TokensSetting[][] => params.map(toSettings);

export const tokensLayer = (r: LayerResult): LayerResult<HeadSelection> => ({ ...r, heads: tokensResults(r.heads, 'the studio\'s head views') });

export const tokensHead = (r: HeadResult): HeadSelection => tokensResults([r], 'the studio\'s head views')[0];
