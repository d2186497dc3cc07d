import { Isol8Error } from "../errors";

/** A release could not be read, downloaded or installed (the launcher and `serve --update`). */
export class ReleaseError extends Isol8Error {
  override name = "ReleaseError";
}

/** The release server answered a download with an HTTP error status. */
export class HttpStatusError extends ReleaseError {
  override name = "HttpStatusError";
  constructor(
    readonly url: string,
    readonly status: number,
    statusText: string,
  ) {
    super(`Cannot download "${url}": the server answered ${status} ${statusText}`.trimEnd());
  }
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

/**
 * A release's `SHA256SUMS` is not signed by a key this build trusts (unsigned, badly
 * signed, signed by another key, or no key trusted at all); nothing was downloaded
 * beyond the checksums and their signature, nothing was installed.
 */
export class SignatureError extends ReleaseError {
  override name = "SignatureError";
  constructor(
    readonly version: string,
    state: string,
    hint: string,
  ) {
    super(`Cannot verify release "${version}": ${state}`, hint);
  }
}
