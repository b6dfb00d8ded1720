/** A one-line progress bar on a terminal; silent when output is piped (logs stay clean). */
export function createProgressLine(stream: NodeJS.WriteStream, label: string, unit = "tiles") {
  const tty = Boolean(stream.isTTY);
  let shown = false;
  let last = "";
  return {
    update(done: number, total: number) {
      if (!tty || total <= 0) return;
      const width = 30;
      const filled = Math.round((done / total) * width);
      const line = `${label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total} ${unit} (${Math.floor((done / total) * 100)}%)`;
      if (line === last) return;
      last = line;
      shown = true;
      stream.write(`\r${line}\x1b[K`);
    },
    done() {
      if (shown) stream.write("\n");
      shown = false;
    },
  };
}
