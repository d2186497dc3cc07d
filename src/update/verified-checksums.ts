import { parseChecksums } from "./checksums";
import { type DownloadOptions, downloadText } from "./download";
import { HttpStatusError, SignatureError } from "./errors";
import { CHECKSUMS_FILE, SIGNATURE_FILE, versionFileUrl } from "./layout";
import { requireTrustedKeys, verifyChecksums } from "./signature";

/** Which release's checksums to fetch, and the keys that may have signed them. */
export interface VerifiedChecksumsOptions extends DownloadOptions {
  /** The release base URL (see layout.ts). */
  baseUrl: string;
  version: string;
  /** The public keys this build trusts (base64). */
  trustedKeys: readonly string[];
}

/**
 * The file → SHA-256 map of `version`'s `SHA256SUMS`, once its signature is verified:
 * the only source of the checksums the launcher and `serve --update` install by. With
 * no trusted key it refuses before downloading anything; a missing signature file is
 * refused like a bad one.
 */
export async function downloadVerifiedChecksums(options: VerifiedChecksumsOptions): Promise<Map<string, string>> {
  const { baseUrl, version, trustedKeys } = options;
  requireTrustedKeys(version, trustedKeys);
  const sumsUrl = versionFileUrl(baseUrl, version, CHECKSUMS_FILE);
  const signatureUrl = versionFileUrl(baseUrl, version, SIGNATURE_FILE);
  const sums = await downloadText(sumsUrl, options);
  const signatures = await downloadText(signatureUrl, options).catch((error: unknown) => {
    if (!(error instanceof HttpStatusError && error.status === 404)) throw error;
    throw new SignatureError(version, `it has no signature ("${signatureUrl}" is missing)`, "the release is unsigned or incomplete; nothing was installed");
  });
  verifyChecksums({ version, sums, signatures, trustedKeys, sumsSource: sumsUrl, signatureSource: signatureUrl });
  return parseChecksums(sums, sumsUrl);
}
