export { runCli } from "./cli/main";
