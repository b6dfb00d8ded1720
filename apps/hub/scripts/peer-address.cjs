// Preloaded into the hub's web process (NODE_OPTIONS=--require): every HTTP request gets the
// TCP peer's address in x-pathx-peer, replacing whatever a client sent under that name. Route
// handlers see only headers, and X-Forwarded-For is the client's to write unless a trusted
// proxy sets it; this header is what the audit records when no proxy is trusted.
"use strict";
const http = require("node:http");
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, request, ...rest) {
  if (event === "request" && request && request.headers) request.headers["x-pathx-peer"] = request.socket?.remoteAddress ?? "";
  return emit.call(this, event, request, ...rest);
};
