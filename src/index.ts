/**
 * isol8: run untrusted Python, Node.js, Bun, Deno and Bash code in locked-down Docker containers.
 *
 * @module
 */
export { DockerIsol8, type DockerIsol8Options, type EngineDefaults } from "./engine/engine";
export type { ExecuteOptions, Isol8 } from "./protocol/isol8";
export { RemoteError, RemoteIsol8, type RemoteIsol8Options } from "./client/remote";
export type { RemoteEngineDefaults } from "./client/request-defaults";
export { createServer, type CreateServerOptions, type InProcessServer } from "./server/create-server";
export type { CreatedSession } from "./protocol/http";
export type { ImageStatus, RuntimeInfo } from "./protocol/runtime-info";
export type { ExecutionRequest } from "./protocol/execution";
export type { ExecutionResult, ExecutionSummary, FileContent, FileEncoding, KillReason, OutputEvent, ResourceUsage, StreamEvent } from "./protocol/execution";
export { eventBytes, outputBytes } from "./protocol/output-bytes";
export type {
  Artifact,
  CellError,
  CellEvent,
  CellOptions,
  CellResult,
  ContextInfo,
  ContextLostReason,
  ContextRuntime,
  CreateContextRequest,
  Isol8Context,
  Isol8Contexts,
  MimeBundle,
} from "./protocol/context";
export type { EngineContext } from "./engine/contexts/engine-context";
export type { RemoteContext } from "./client/remote-context";
export type { ImageProgress } from "./engine/images/image-manager";
export type { AuditIo } from "./engine/audit/audit-log";
export type { AuditContext, AuditOutcome, AuditRecord } from "./engine/audit/audit-record";
export { loadConfig, parseConfig, type LoadConfigOptions, type LoadedConfig } from "./config/load";
export { defaultConfig, type Isol8Config, type Isol8ConfigInput } from "./config/schema";
export type { NetworkMode } from "./protocol/execution";
export type { Runtime, RuntimeName } from "./runtimes/registry";
export type { RuntimeDefinition } from "./runtimes/types";
export { createRuntimeRegistry } from "./runtimes/registry";
export {
  BashAdapter,
  BunAdapter,
  DenoAdapter,
  NodeAdapter,
  PythonAdapter,
  RuntimeRegistry,
} from "./runtimes/adapters";
export { parseSize } from "./protocol/sizes";
export {
  ConfigError,
  ConflictError,
  DockerUnavailableError,
  FileError,
  type FileErrorReason,
  ImageError,
  Isol8Error,
  RequestError,
  SandboxError,
  SessionLostError,
  UsageError,
} from "./errors";
export { VERSION } from "./version";
