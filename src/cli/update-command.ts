import { Isol8Error } from "../errors";

/** `isol8 serve --update`: wired to src/update once the updater lands. */
export async function updateAndReexec(_rawArgs: string[]): Promise<number> {
  throw new Isol8Error("Cannot update: the updater is not wired yet");
}
