"use client";

import { useEffect, useState } from "react";

/** A moment in the reader's own time zone (the server renders UTC until the browser takes over). */
export function LocalTime({ iso }: { iso: string }) {
  const [text, setText] = useState(() => `${iso.slice(0, 16).replace("T", " ")} UTC`);
  useEffect(() => setText(new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })), [iso]);
  return <time dateTime={iso}>{text}</time>;
}
