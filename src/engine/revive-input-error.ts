// The named input errors (gpu/errors.ts and the format readers' subclasses) re-created on the
// main side of the engine's worker: the same class, message and fields (file, key, tensor, need,
// limit, paths...), so the studio can show the CLI's message and tell a bad input from a bug.
import { CheckpointError, InputError, LimitError, NonFiniteActivationError, NonFiniteWeightError, oneLine } from '../../gpu/errors';
import { PrecisionUnavailableError } from '../../gpu/tensorcore/support';
import { ConfigError } from '../sampleattention/formats/config-file';
import { QkFileError } from '../sampleattention/formats/qk-file';
import type { WireError } from './rpc';

const CLASSES: Record<string, { prototype: InputError }> = {
  InputError,
  CheckpointError,
  NonFiniteWeightError,
  NonFiniteActivationError,
  LimitError,
  ConfigError,
  QkFileError,
  PrecisionUnavailableError,
};

/** The InputError a wire error describes, or null when its name is not one of ours. The object is
 * made from the class's prototype (constructors differ in their arguments) and given the sent
 * fields, so `instanceof` and every field work as on the thrown one. */
export function reviveInputError(w: WireError): InputError | null {
  const cls = Object.hasOwn(CLASSES, w.name) ? CLASSES[w.name] : undefined;
  if (!cls) return null;
  const e = Object.create(cls.prototype) as InputError;
  Object.defineProperty(e, 'message', { value: w.message, writable: true, configurable: true });
  Object.defineProperty(e, 'stack', { value: w.stack ?? `${w.name}: ${w.message}`, writable: true, configurable: true });
  Object.assign(e, w.fields ?? {}, { name: w.name });
  return e;
}

/** What the studio shows for a failure: an input error as the CLI prints it (one line, after
 * "sa-studio <verb>: "), anything else by its message. */
export function errorText(e: unknown): string {
  if (e instanceof InputError) return oneLine(e.message);
  return e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e) ? String((e as Error).message) : String(e);
}
