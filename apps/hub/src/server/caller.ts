import { headers } from "next/headers";
import { appRouter, createCallerFactory, createContext } from "@pathx/api";
import { currentUserId } from "@/auth";
import { getDeps } from "./deps";

/** Server components call the same procedures directly, with the same context and rules. */
export async function serverCaller() {
  const context = await createContext(await getDeps(), { headers: new Headers(await headers()), userId: await currentUserId() });
  return { api: createCallerFactory(appRouter)(context), context };
}
