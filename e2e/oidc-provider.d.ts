// oidc-provider ships no TypeScript types; the test server uses only its constructor and listen().
declare module "oidc-provider" {
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown> & { findAccount?: (ctx: unknown, id: string) => Promise<unknown> });
    listen(port: number, callback?: () => void): unknown;
  }
}
