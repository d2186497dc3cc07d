/** Where an execution's output goes while it runs, and whether it is kept for the result. */
export interface RunHandlers {
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  /** Keep the output in the result (collected mode). */
  collect: boolean;
  signal?: AbortSignal;
}
