export * from "./node-protocol";
