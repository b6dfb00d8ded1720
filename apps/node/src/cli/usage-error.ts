/** Wrong words on the command line: exit 2 and point at --help. */
export class UsageError extends Error {}
