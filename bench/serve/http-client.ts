import { Agent, get } from "node:http";

// node:http with kept-alive connections, as a browser keeps them: fetch() costs the client
// several times the CPU per request, and on 2 shared cores that CPU is taken from the service.
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
/** GETs a URL and drains the body: its HTTP status, 0 when the connection failed. */
export function fetchTile(url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = get(url, { agent }, (response) => {
      response.on("data", () => {});
      response.on("end", () => resolve(response.statusCode ?? 0));
      response.on("error", () => resolve(0));
    });
    request.on("error", () => resolve(0));
  });
}
