import { type DataServices, openDataServices } from "@pathx/runtime";

// Kept on globalThis: route handlers and pages may load their own copies of these modules.
const holder = globalThis as unknown as { pathxServices?: Promise<DataServices> };

/** This server process's one database handle and object store (@pathx/runtime opens them as every process does). */
export function getServices(): Promise<DataServices> {
  holder.pathxServices ??= openDataServices();
  return holder.pathxServices;
}
