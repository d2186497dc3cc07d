// One direction of the connection gate's relay: bytes read from one socket written to the
// other, with backpressure. No Bun APIs (the sockets are passed in), so it is tested with fakes.

/** The socket bytes are read from. */
export interface FlowSource {
  pause(): void;
  resume(): void;
}

/** The socket bytes are written to. */
export interface FlowTarget {
  /** Writes what it can now: the count taken (less than asked when its buffer is full), -1 when it is closed. */
  write(data: Uint8Array): number;
  /** Ends its write side once everything was written (FIN). */
  end(): void;
}

export interface Flow {
  /** Bytes read from the source: written now, or held (and the source paused) until the target drains. */
  send(chunk: Uint8Array): void;
  /** The target can take more: writes what is held; when all is written, resumes the source (or ends the target). */
  drain(): void;
  /** The source has no more bytes: the target is ended once what is held is written. */
  end(): void;
  /** Bytes held because the target could not take them yet. */
  readonly heldBytes: number;
  /** end() was called and everything held was written. */
  readonly finished: boolean;
}

/**
 * A flow from `source` to `target`. At most what the target refused is held: the source is
 * paused at the first short write and resumed when the target has taken everything, so a slow
 * reader makes the writer wait (in the kernel's buffers) instead of the relay buffering a whole
 * response. A closed target drops what is sent (its close is handled by the caller).
 */
export function createFlow(source: FlowSource, target: FlowTarget): Flow {
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let ending = false;
  let finished = false;

  const hold = (bytes: Uint8Array) => {
    held.push(new Uint8Array(bytes)); // a copy: the chunk's memory may be reused after the read callback
    heldBytes += bytes.length;
    source.pause();
  };
  const finish = () => {
    if (finished) return;
    finished = true;
    target.end();
  };

  return {
    send(chunk) {
      if (finished || chunk.length === 0) return;
      if (held.length > 0) return hold(chunk);
      const written = target.write(chunk);
      if (written < 0 || written >= chunk.length) return;
      hold(chunk.subarray(written));
    },
    drain() {
      while (held.length > 0) {
        const next = held[0]!;
        const written = target.write(next);
        if (written < 0) return;
        heldBytes -= Math.min(written, next.length);
        if (written < next.length) {
          held[0] = next.subarray(written);
          return;
        }
        held.shift();
      }
      if (ending) finish();
      else source.resume();
    },
    end() {
      ending = true;
      if (held.length === 0) finish();
    },
    get heldBytes() {
      return heldBytes;
    },
    get finished() {
      return finished;
    },
  };
}
