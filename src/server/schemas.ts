import * as v from "valibot";
import { ExecutionRequestSchema } from "../engine/request";

export const SESSION_ID = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]{1,128}$/, "must be 1-128 characters of A-Z a-z 0-9 _ . -"));

/** Options a client may set per execution; merged over the request, then clamped to server policy. */
export const ExecuteOptionsSchema = v.strictObject({
  timeoutMs: v.optional(v.number()),
  memoryLimit: v.optional(v.union([v.string(), v.number()])),
  cpuLimit: v.optional(v.number()),
  pidsLimit: v.optional(v.number()),
  sandboxSize: v.optional(v.union([v.string(), v.number()])),
  tmpSize: v.optional(v.union([v.string(), v.number()])),
  maxOutputSize: v.optional(v.union([v.string(), v.number()])),
  network: v.optional(v.string()),
  image: v.optional(v.string()),
  security: v.optional(v.strictObject({ seccomp: v.string(), customProfilePath: v.optional(v.string()) })),
});

export const ExecuteBodySchema = v.strictObject({
  request: ExecutionRequestSchema,
  options: v.optional(ExecuteOptionsSchema),
  sessionId: v.optional(SESSION_ID),
});

export const PutFileBodySchema = v.strictObject({
  sessionId: SESSION_ID,
  path: v.pipe(v.string(), v.minLength(1)),
  content: v.pipe(v.string(), v.base64("must be base64")),
});

export const CleanupBodySchema = v.strictObject({ images: v.optional(v.boolean()) });

export type ExecuteBody = v.InferOutput<typeof ExecuteBodySchema>;
export type ExecuteOptions = v.InferOutput<typeof ExecuteOptionsSchema>;
