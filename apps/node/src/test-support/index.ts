export { startHubProcess, type HubProcess } from "./hub-process";
export { signInOverHttp } from "./hub-session";
export { pathxBin, runPathx, spawnPathx } from "./run-pathx";
