export * from "./error-table";
