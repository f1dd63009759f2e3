/**
 * @module The version and commit of this build. `script/build.ts` defines
 * both at compile time; from source they come from package.json and "dev".
 */
import pkg from "../package.json" with { type: "json" };

declare const MCR_VERSION: string | undefined;
declare const MCR_COMMIT: string | undefined;

export const version = {
  version: typeof MCR_VERSION === "string" ? MCR_VERSION : pkg.version,
  commit: typeof MCR_COMMIT === "string" ? MCR_COMMIT : "dev",
};
