// Named errors for bad input (kept in gpu/, the bottom layer, so gpu/ can throw them without
// importing src/): a broken checkpoint, a broken per-head config or capture file, a
// text or model past a limit, a model whose numbers are not numbers. Each names what it is about
// (file, tensor, key, JSON path, layer) in fields as well as in its message, so the command line
// can print one line and exit 2 (src/../cli/main.ts) and the studio can show the same message.
// Anything that is not an InputError is a bug or an environment failure, not the user's input.

export interface InputErrorFields {
  /** The file the problem is in (a path or a checkpoint-relative name). */
  file?: string;
  /** The JSON key or path (config.json key, per-head config path such as "layers[2].heads[5].alpha"). */
  key?: string;
  /** The tensor's name in the checkpoint or capture file. */
  tensor?: string;
}

/** Base of every "your input is wrong" error. The CLI maps these to exit code 2 and one line. */
export class InputError extends Error {
  override name = 'InputError';
  file?: string;
  key?: string;
  tensor?: string;
  constructor(message: string, fields: InputErrorFields = {}, options?: { cause?: unknown }) {
    super(message, options);
    if (fields.file !== undefined) this.file = fields.file;
    if (fields.key !== undefined) this.key = fields.key;
    if (fields.tensor !== undefined) this.tensor = fields.tensor;
  }
}

/** A checkpoint folder or file that cannot be used: missing or corrupt files, bad config.json or
 * tokenizer.json, tensors of the wrong shape, weights that are not finite. */
export class CheckpointError extends InputError {
  override name = 'CheckpointError';
}

/** A weight that is NaN or infinite: named with its first bad element. */
export class NonFiniteWeightError extends CheckpointError {
  override name = 'NonFiniteWeightError';
  constructor(message: string, fields: InputErrorFields & { tensor: string }, readonly index: number, readonly value: number) {
    super(message, fields);
  }
}

/** An activation of the forward pass became NaN or infinite: the layer and pass where it first
 * appears (layer -1 is the embedding; layer = numLayers is the final norm / LM head). */
export class NonFiniteActivationError extends InputError {
  override name = 'NonFiniteActivationError';
  constructor(message: string, readonly layer: number, readonly pass: string) {
    super(message);
  }
}

/** A size past a limit, found before the work starts: a text longer than the model's context, a
 * tensor larger than the adapter's buffer limits. `need` and `limit` are in the unit of the message
 * (tokens or bytes). */
export class LimitError extends InputError {
  override name = 'LimitError';
  constructor(message: string, readonly need: number, readonly limit: number, fields: InputErrorFields = {}) {
    super(message, fields);
  }
}

/** The message on one line: newlines and the indentation after them become "; ". */
export function oneLine(message: string): string {
  return message.replace(/:\s*\n\s*/g, ': ').replace(/\s*\n\s*/g, '; ').trim();
}
