// The image's HEALTHCHECK: plain Node (no tsx start-up), one probe per service, exit 0 when healthy.
// hub and tiles answer the same paths the load balancer probes (terraform/alb.tf); the worker
// has no port: it is healthy while its process runs (a worker that dies ends the container).
const service = process.env.PATHX_SERVICE ?? "hub";
const probes = {
  hub: `http://127.0.0.1:${process.env.PORT ?? 3000}/sign-in`,
  tiles: `http://127.0.0.1:${process.env.TILES_PORT ?? 3001}/healthz`,
};
const url = probes[service];
if (!url) process.exit(0);
try {
  const response = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(4000) });
  process.exit(response.status < 500 ? 0 : 1);
} catch {
  process.exit(1);
}
