/*
 * JSON text in pieces, the same text as JSON.stringify(value, null, indent), so that a large result (an audit of
 * 50,000 tokens is 40 MB of JSON) is written out without ever being one string in memory.
 */

type Json = unknown;

const skipped = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

function* piece(value: Json, key: string, pad: string, step: string): Generator<string> {
  let v = value;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON: (k: string) => unknown }).toJSON(key);
  if (v === null || typeof v !== 'object') {
    yield typeof v === 'number' && !Number.isFinite(v) ? 'null' : skipped(v) ? 'null' : JSON.stringify(v);
    return;
  }
  const inner = pad + step;
  if (Array.isArray(v)) {
    if (!v.length) {
      yield '[]';
      return;
    }
    yield '[';
    for (let i = 0; i < v.length; i++) {
      yield `${i ? ',' : ''}\n${inner}`;
      const item: unknown = v[i];
      if (skipped(item)) yield 'null';
      else yield* piece(item, String(i), inner, step);
    }
    yield `\n${pad}]`;
    return;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => !skipped(x));
  if (!entries.length) {
    yield '{}';
    return;
  }
  yield '{';
  for (const [i, [k, x]] of entries.entries()) {
    yield `${i ? ',' : ''}\n${inner}${JSON.stringify(k)}: `;
    yield* piece(x, k, inner, step);
  }
  yield `\n${pad}}`;
}

/** The pieces of JSON.stringify(value, null, indent) for plain data (objects, arrays, strings, numbers, booleans, null, toJSON). */
export const jsonPieces = (value: unknown, indent = 2): Generator<string> => piece(value, '', '', ' '.repeat(indent));

/** The JSON text of a value (and a closing newline) in chunks of about `size` characters. */
export function* jsonChunks(value: unknown, indent = 2, size = 65_536): Generator<string> {
  let buf = '';
  for (const p of jsonPieces(value, indent)) {
    buf += p;
    if (buf.length >= size) {
      yield buf;
      buf = '';
    }
  }
  yield `${buf}\n`;
}

/** Writes the JSON text of a value to a writer in chunks of about 64 KB, then a newline. */
export const writeJson = (write: (chunk: string) => void, value: unknown, indent = 2): void => {
  for (const chunk of jsonChunks(value, indent)) write(chunk);
};

/**
 * Writes the JSON text of a value to a stream, a chunk at a time, waiting for 'drain' whenever the stream's buffer is
 * full: into a pipe (stdout is asynchronous there), the text never piles up in memory. The process stays up until the
 * last chunk is handed over (a pending 'drain' keeps the stream's handle active).
 */
export const pipeJson = (stream: NodeJS.WritableStream, value: unknown, indent = 2): Promise<void> =>
  new Promise((resolve, reject) => {
    const chunks = jsonChunks(value, indent);
    const pump = (): void => {
      try {
        for (let next = chunks.next(); !next.done; next = chunks.next()) {
          if (!stream.write(next.value)) {
            stream.once('drain', pump);
            return;
          }
        }
        resolve();
      } catch (e) {
        reject(e);
      }
    };
    pump();
  });
