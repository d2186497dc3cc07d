import { describe, expect, test } from "bun:test";
import { sha256, testSigningKey } from "../../test/fake-release";
import { formatChecksums } from "./checksums";
import { SignatureError } from "./errors";
import { formatSignatures, parseSignatures, signedMessage, type VerifyChecksumsOptions, verifyChecksums } from "./signature";
import { signChecksums } from "./signing-key";

const VERSION = "1.2.3";
const SUMS = formatChecksums([
  { file: "isol8-linux-x64", sha256: sha256("binary") },
  { file: "launcher.cjs", sha256: sha256("launcher") },
]);
const trusted = testSigningKey();
const other = testSigningKey();
const GOOD = signChecksums(VERSION, SUMS, [trusted]);

const verify = (overrides: Partial<VerifyChecksumsOptions> = {}) => () =>
  verifyChecksums({
    version: VERSION,
    sums: SUMS,
    signatures: GOOD,
    trustedKeys: [trusted.publicKey],
    sumsSource: "http://r/v1.2.3/SHA256SUMS",
    signatureSource: "http://r/v1.2.3/SHA256SUMS.sig",
    ...overrides,
  });

function refusal(overrides: Partial<VerifyChecksumsOptions>): SignatureError {
  try {
    verify(overrides)();
  } catch (error) {
    return error as SignatureError;
  }
  throw new Error("accepted");
}

/** GOOD with its signature's bytes changed by `edit`. */
function editedSignature(edit: (bytes: Buffer) => Buffer): string {
  const [line] = parseSignatures(GOOD, VERSION, "x");
  return formatSignatures([{ publicKey: line!.publicKey, signature: edit(Buffer.from(line!.signature, "base64")).toString("base64") }]);
}

const DOES_NOT_MATCH = `Cannot verify release "1.2.3": the signature by "${trusted.publicKey}" does not match "http://r/v1.2.3/SHA256SUMS"`;
const NOT_A_LINE = 'Cannot verify release "1.2.3": "http://r/v1.2.3/SHA256SUMS.sig" line 1 is not "ed25519 <public key> <signature>"';

describe("verifyChecksums", () => {
  test("a signature by a trusted key over this version's SHA256SUMS is accepted", () => {
    expect(verify()).not.toThrow();
    expect(GOOD).toMatch(/^ed25519 [A-Za-z0-9+/]{43}= [A-Za-z0-9+/]{86}==\n$/);
  });

  test("what is signed: the version line, then SHA256SUMS byte for byte", () => {
    expect(signedMessage(VERSION, SUMS).toString()).toBe(`isol8 release 1.2.3\n${SUMS}`);
  });

  // Each row is an attack on what the launcher and `serve --update` install; each must fail.
  test.each([
    ["SHA256SUMS with a hash replaced", { sums: SUMS.replace(sha256("binary"), sha256("evil")) }, DOES_NOT_MATCH],
    ["SHA256SUMS with an extra line", { sums: `${SUMS}${sha256("evil")}  isol8-linux-x64\n` }, DOES_NOT_MATCH],
    ["SHA256SUMS with a line removed", { sums: SUMS.split("\n").slice(1).join("\n") }, DOES_NOT_MATCH],
    ["a signature of other bytes", { signatures: signChecksums(VERSION, `${sha256("evil")}  isol8-linux-x64\n`, [trusted]) }, DOES_NOT_MATCH],
    ["another version's signature of the same SHA256SUMS", { signatures: signChecksums("1.2.2", SUMS, [trusted]) }, DOES_NOT_MATCH],
    ["a garbled signature (one bit flipped)", { signatures: editedSignature((b) => Buffer.concat([b.subarray(0, 10), Buffer.from([b[10]! ^ 1]), b.subarray(11)])) }, DOES_NOT_MATCH],
    ["an all-zero signature", { signatures: editedSignature((b) => Buffer.alloc(b.length)) }, DOES_NOT_MATCH],
    ["another key's signature under the trusted key's name", { signatures: signChecksums(VERSION, SUMS, [{ ...other, publicKey: trusted.publicKey }]) }, DOES_NOT_MATCH],
    ["a truncated signature", { signatures: editedSignature((b) => b.subarray(0, 63)) }, NOT_A_LINE],
    ["a signature line cut short", { signatures: GOOD.slice(0, 60) }, NOT_A_LINE],
    ["an HTML error page", { signatures: "<html>not found</html>" }, NOT_A_LINE],
    ["another algorithm", { signatures: GOOD.replace("ed25519", "rsa") }, NOT_A_LINE],
    ["an empty signature file", { signatures: "\n" }, 'Cannot verify release "1.2.3": "http://r/v1.2.3/SHA256SUMS.sig" holds no signature'],
    [
      "a signature by a key this build does not trust (re-signed)",
      { signatures: signChecksums(VERSION, SUMS, [other]) },
      `Cannot verify release "1.2.3": it is signed only by "${other.publicKey}", which this build does not trust`,
    ],
    ["no trusted key at all", { trustedKeys: [] }, 'Cannot verify release "1.2.3": this build trusts no release signing key'],
  ])("refused: %s", (_, overrides, message) => {
    const error = refusal(overrides);
    expect(error).toBeInstanceOf(SignatureError);
    expect(error.message).toBe(message);
    expect(error.hint).toMatch(/nothing was installed|installs no release/);
  });

  describe("several keys (rotation)", () => {
    test("any one trusted key's valid signature is enough; unknown keys' lines are skipped", () => {
      expect(verify({ signatures: signChecksums(VERSION, SUMS, [other, trusted]) })).not.toThrow();
      expect(verify({ signatures: signChecksums(VERSION, SUMS, [other]), trustedKeys: [trusted.publicKey, other.publicKey] })).not.toThrow();
    });

    test("a bad signature by a trusted key is refused even beside a good one", () => {
      const bad = formatSignatures([{ publicKey: other.publicKey, signature: parseSignatures(GOOD, VERSION, "x")[0]!.signature }]);
      expect(verify({ signatures: `${GOOD}${bad}`, trustedKeys: [trusted.publicKey, other.publicKey] })).toThrow(
        `the signature by "${other.publicKey}" does not match`,
      );
    });
  });
});
