"use client";

import { useState } from "react";

/** The chair picks a date and time in their own zone; the server receives the exact instant. */
export function ScheduleSessionForm({ action }: { action: (form: FormData) => Promise<void> }) {
  const [local, setLocal] = useState("");
  const instant = local ? new Date(local) : undefined;
  return (
    <form action={action} className="card inline-form">
      <label>
        Date and time <input type="datetime-local" required value={local} onChange={(e) => setLocal(e.target.value)} />
      </label>
      <input type="hidden" name="scheduledAt" value={instant && !Number.isNaN(instant.getTime()) ? instant.toISOString() : ""} />
      <button type="submit">Schedule session</button>
    </form>
  );
}
