import pkg from "../package.json" with { type: "json" };

declare const ISOL8_VERSION: string | undefined;

/** The isol8 version: injected by build.ts, read from package.json when running from source. */
export const VERSION: string = typeof ISOL8_VERSION === "string" ? ISOL8_VERSION : pkg.version;
