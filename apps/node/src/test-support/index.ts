export { startHubProcess, type HubProcess } from "./hub-process";
export { openEventStream, signInOverHttp, type EventStream, type StreamedEvent } from "./hub-session";
export { pathxBin, runPathx, spawnPathx } from "./run-pathx";
export { createWatch } from "./watch";
