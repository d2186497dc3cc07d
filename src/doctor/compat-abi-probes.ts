// Tiny static x86 programs that each make ONE system call through a given ABI and exit
// with a status saying what happened: 200 when the call succeeded (e.g. a socket was
// created), otherwise the errno it failed with (1 = EPERM, 38 = ENOSYS, 97 =
// EAFNOSUPPORT...). A program killed by seccomp for a foreign architecture dies with
// SIGSYS (a shell reports 159). No libc, no toolchain: the ELF bytes are written here,
// so the tests need nothing installed. The programs never connect anything.
//
// ABIs:
//   i386    a 32-bit ELF (EM_386) using `int 0x80` (the whole process is a 32-bit one)
//   compat  a 64-bit ELF using `int 0x80` (the 32-bit entry point from a 64-bit process)
//   x32     a 64-bit ELF using `syscall` with the x32 bit (0x40000000) in the number
//   native  a 64-bit ELF using `syscall` with the native number (the "still works" twin)

export type Abi = "i386" | "compat" | "x32" | "native";

/** A system call: number and up to three register arguments (32-bit values). */
interface Call {
  nr: number;
  args: [number, number, number];
}

const I386_SOCKETCALL = 102;
const I386_SOCKET = 359;
const I386_GETPID = 20;
const X86_64_SOCKET = 41;
const X86_64_GETPID = 39;
const X32_BIT = 0x40000000;
const SYS_SOCKET = 1; // socketcall's sub-call for socket()
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const SOCK_SEQPACKET = 5;

/** Socket families the sandbox must never open, each with a socket type the family takes. */
export const FORBIDDEN_FAMILIES = {
  AF_VSOCK: { family: 40, type: SOCK_STREAM },
  AF_ALG: { family: 38, type: SOCK_SEQPACKET },
  AF_PACKET: { family: 17, type: SOCK_RAW },
  AF_NETLINK: { family: 16, type: SOCK_RAW },
  AF_INET: { family: 2, type: SOCK_DGRAM },
} as const;
export type Family = keyof typeof FORBIDDEN_FAMILIES;

const le32 = (value: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return [...b];
};

/** `test eax,eax; js neg; mov <exit reg>,200; jmp out; neg: neg eax; mov <exit reg>,eax; out:` */
function statusFromEax(exitRegIsEdi: boolean): number[] {
  const movImm = exitRegIsEdi ? 0xbf : 0xbb; // mov edi|ebx, imm32
  const movFromEax = exitRegIsEdi ? [0x89, 0xc7] : [0x89, 0xc3]; // mov edi|ebx, eax
  return [0x85, 0xc0, 0x78, 0x07, movImm, ...le32(200), 0xeb, 0x04, 0xf7, 0xd8, ...movFromEax];
}

/** 32-bit entry (int 0x80): eax = nr, ebx/ecx/edx = args; then exit(status) via int 0x80. */
function int80Code(call: Call): number[] {
  return [
    0xb8, ...le32(call.nr), // mov eax, nr
    0xbb, ...le32(call.args[0]), // mov ebx, a0
    0xb9, ...le32(call.args[1]), // mov ecx, a1
    0xba, ...le32(call.args[2]), // mov edx, a2
    0xcd, 0x80, // int 0x80
    ...statusFromEax(false),
    0xb8, ...le32(1), // mov eax, 1 (exit)
    0xcd, 0x80, // int 0x80
  ];
}

/** 64-bit entry (syscall): rax = nr, rdi/rsi/rdx = args; then exit(status) via syscall 60. */
function syscallCode(call: Call): number[] {
  return [
    0xb8, ...le32(call.nr), // mov eax, nr (zero-extends into rax)
    0xbf, ...le32(call.args[0]), // mov edi, a0
    0xbe, ...le32(call.args[1]), // mov esi, a1
    0xba, ...le32(call.args[2]), // mov edx, a2
    0x0f, 0x05, // syscall
    ...statusFromEax(true),
    0xb8, ...le32(60), // mov eax, 60 (exit)
    0x0f, 0x05, // syscall
  ];
}

/** A static ELF32 (i386) with one R+X segment: [header][program header][data][code]. */
function elf32(data: number[], code: (dataAddress: number) => number[]): Buffer {
  const base = 0x08048000;
  const headers = 52 + 32;
  const dataAddress = base + headers;
  const body = [...data, ...code(dataAddress)];
  const total = headers + body.length;
  const h = Buffer.alloc(headers);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0]).copy(h, 0);
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(3, 18); // EM_386
  h.writeUInt32LE(1, 20); // EV_CURRENT
  h.writeUInt32LE(dataAddress + data.length, 24); // entry: the code, after the data
  h.writeUInt32LE(52, 28); // program headers right after this header
  h.writeUInt16LE(52, 40); // header size
  h.writeUInt16LE(32, 42); // program header size
  h.writeUInt16LE(1, 44); // one program header
  h.writeUInt32LE(1, 52); // PT_LOAD
  h.writeUInt32LE(0, 56); // from file offset 0
  h.writeUInt32LE(base, 60);
  h.writeUInt32LE(base, 64);
  h.writeUInt32LE(total, 68);
  h.writeUInt32LE(total, 72);
  h.writeUInt32LE(5, 76); // R+X
  h.writeUInt32LE(0x1000, 80);
  return Buffer.concat([h, Buffer.from(body)]);
}

/** A static ELF64 (x86-64) with one R+X segment below 4 GiB (so 32-bit pointers reach it). */
function elf64(data: number[], code: (dataAddress: number) => number[]): Buffer {
  const base = 0x400000;
  const headers = 64 + 56;
  const dataAddress = base + headers;
  const body = [...data, ...code(dataAddress)];
  const total = headers + body.length;
  const h = Buffer.alloc(headers);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(h, 0);
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(62, 18); // EM_X86_64
  h.writeUInt32LE(1, 20);
  h.writeBigUInt64LE(BigInt(dataAddress + data.length), 24); // entry
  h.writeBigUInt64LE(64n, 32); // program headers offset
  h.writeUInt16LE(64, 52);
  h.writeUInt16LE(56, 54);
  h.writeUInt16LE(1, 56);
  h.writeUInt32LE(1, 64); // PT_LOAD
  h.writeUInt32LE(5, 68); // R+X
  h.writeBigUInt64LE(0n, 72);
  h.writeBigUInt64LE(BigInt(base), 80);
  h.writeBigUInt64LE(BigInt(base), 88);
  h.writeBigUInt64LE(BigInt(total), 96);
  h.writeBigUInt64LE(BigInt(total), 104);
  h.writeBigUInt64LE(0x1000n, 112);
  return Buffer.concat([h, Buffer.from(body)]);
}

/** socket(family, type, 0) through the ABI's own socket call. */
export function socketProgram(abi: Abi, family: Family): Buffer {
  const { family: f, type } = FORBIDDEN_FAMILIES[family];
  switch (abi) {
    case "i386":
      return elf32([], () => int80Code({ nr: I386_SOCKET, args: [f, type, 0] }));
    case "compat":
      return elf64([], () => int80Code({ nr: I386_SOCKET, args: [f, type, 0] }));
    case "x32":
      return elf64([], () => syscallCode({ nr: X86_64_SOCKET | X32_BIT, args: [f, type, 0] }));
    case "native":
      return elf64([], () => syscallCode({ nr: X86_64_SOCKET, args: [f, type, 0] }));
  }
}

/**
 * socketcall(SYS_SOCKET, {family, type, 0}): the 32-bit multiplexer whose arguments sit in
 * memory, where a seccomp filter cannot look. `i386` or `compat` only.
 */
export function socketcallProgram(abi: "i386" | "compat", family: Family): Buffer {
  const { family: f, type } = FORBIDDEN_FAMILIES[family];
  const args = [...le32(f), ...le32(type), ...le32(0)];
  const code = (address: number) => int80Code({ nr: I386_SOCKETCALL, args: [SYS_SOCKET, address, 0] });
  return abi === "i386" ? elf32(args, code) : elf64(args, code);
}

/** getpid(): a harmless call, to show that EVERY call of a foreign ABI is refused. */
export function getpidProgram(abi: Abi): Buffer {
  switch (abi) {
    case "i386":
      return elf32([], () => int80Code({ nr: I386_GETPID, args: [0, 0, 0] }));
    case "compat":
      return elf64([], () => int80Code({ nr: I386_GETPID, args: [0, 0, 0] }));
    case "x32":
      return elf64([], () => syscallCode({ nr: X86_64_GETPID | X32_BIT, args: [0, 0, 0] }));
    case "native":
      return elf64([], () => syscallCode({ nr: X86_64_GETPID, args: [0, 0, 0] }));
  }
}
