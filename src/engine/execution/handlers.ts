/** Where an execution's output goes while it runs, and whether it is kept for the result. */
export interface RunHandlers {
  /** Output as produced: its text, and its exact bytes when they are not valid UTF-8. */
  onStdout?: (text: string, bytes?: Buffer) => void;
  onStderr?: (text: string, bytes?: Buffer) => void;
  /** Keep the output in the result (collected mode). */
  collect: boolean;
  signal?: AbortSignal;
}
