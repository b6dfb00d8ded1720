// CloudFront Function (runtime cloudfront-js-2.0), viewer request of the /tiles/* behaviour:
// the same check as the tile service (packages/tile-token) before the cache answers, so a
// cached tile is only handed to a viewer holding a valid token for that slide and version.
// No token: 401. Forged, expired, another slide's or version's, malformed: 404. The token
// stays in the request for the origin; the cache policy leaves it out of the cache key.
// The key is read from the distribution's KeyValueStore (key "tile_token_secret"), which
// the operator fills once (terraform/README.md), so it is never in the Terraform state.
import cf from "cloudfront";

const crypto = require("crypto");
const kvs = cf.kvs();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ROUTE = /^\/tiles\/([0-9a-f-]{36})\/([a-z0-9]{1,40})\/(slide\.dzi|slide_files\/\d{1,2}\/\d{1,6}_\d{1,6}\.(jpeg|png))$/;

function answer(statusCode, statusDescription) {
  return {
    statusCode: statusCode,
    statusDescription: statusDescription,
    headers: { "cache-control": { value: "no-store" }, "content-type": { value: "text/plain" } },
  };
}

async function handler(event) {
  const request = event.request;
  const route = ROUTE.exec(request.uri);
  if (!route || !UUID.test(route[1])) return answer(404, "Not Found");
  const t = request.querystring.t;
  if (!t || !t.value) return answer(401, "Unauthorized");
  const token = decodeURIComponent(t.value);
  const parts = token.split(".");
  if (token.length > 256 || parts.length !== 6) return answer(404, "Not Found");
  if (
    !UUID.test(parts[0]) ||
    !/^[a-z0-9]{1,40}$/.test(parts[1]) ||
    !UUID.test(parts[2]) ||
    !/^\d{13}$/.test(parts[3]) ||
    !/^\d{13}$/.test(parts[4]) ||
    !/^[0-9a-f]{64}$/.test(parts[5])
  ) {
    return answer(404, "Not Found");
  }
  const secret = await kvs.get("tile_token_secret");
  const expected = crypto.createHmac("sha256", secret).update(parts.slice(0, 5).join(".")).digest("hex");
  // Compared in full whatever the first difference (no early exit).
  let difference = expected.length ^ parts[5].length;
  for (let i = 0; i < expected.length; i++) difference |= expected.charCodeAt(i) ^ parts[5].charCodeAt(i);
  if (difference !== 0) return answer(404, "Not Found");
  if (parts[0] !== route[1] || parts[1] !== route[2]) return answer(404, "Not Found");
  if (Number(parts[4]) <= Date.now()) return answer(404, "Not Found");
  return request;
}
