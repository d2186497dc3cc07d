// What platform an executable is built for, read from its header: lets a release check a binary
// it cannot run here (darwin) and refuse a mislabelled one. Pure.
import type { ReleaseTarget } from "./platform";

/** ELF e_machine values and Mach-O cputype values isol8 builds for. */
const ELF_MACHINE: Record<number, string> = { 0x3e: "x64", 0xb7: "arm64" };
const MACHO_CPU: Record<number, string> = { 0x01000007: "x64", 0x0100000c: "arm64" };

/**
 * `<os>-<arch>` of an executable from its first bytes (64-bit little-endian ELF or Mach-O),
 * or null when the header is neither or names another machine.
 */
export function executableTarget(header: Uint8Array): string | null {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (header.length >= 20 && header[0] === 0x7f && header[1] === 0x45 && header[2] === 0x4c && header[3] === 0x46) {
    // ELFCLASS64, little-endian; e_machine at offset 18.
    if (header[4] !== 2 || header[5] !== 1) return null;
    const arch = ELF_MACHINE[view.getUint16(18, true)];
    return arch ? `linux-${arch}` : null;
  }
  if (header.length >= 8 && view.getUint32(0, true) === 0xfeedfacf) {
    const arch = MACHO_CPU[view.getUint32(4, true)];
    return arch ? `darwin-${arch}` : null;
  }
  return null;
}

/** Whether `binary` holds `marker` (e.g. the version string compiled in). */
export function containsBytes(binary: Uint8Array, marker: string): boolean {
  return Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength).indexOf(Buffer.from(marker, "utf8")) !== -1;
}

/** A one-line problem with a release binary, or null when its header matches its target. */
export function targetProblem(target: ReleaseTarget, header: Uint8Array): string | null {
  const found = executableTarget(header);
  return found === target ? null : `built for ${found ?? "no known platform"}, named ${target}`;
}
