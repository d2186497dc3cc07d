import { Isol8Error } from "../errors";

/** A release could not be read, downloaded or installed (the launcher and `serve --update`). */
export class ReleaseError extends Isol8Error {
  override name = "ReleaseError";
}

/** A downloaded file does not match the checksum its release publishes; nothing was installed. */
export class ChecksumError extends ReleaseError {
  override name = "ChecksumError";
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `Cannot install "${url}": its SHA-256 is ${actual}, the release lists ${expected}`,
      "the download was corrupted or tampered with; nothing was replaced",
    );
  }
}
