"use client";

import { useState } from "react";

type Slide = { id: string; block: string; stain: string };
type Target = { value: string; label: string };

/**
 * Asks for a second opinion, sharing the minimum: no slide is ticked until the pathologist picks
 * it, and the summary above the buttons names exactly what the consultant will see.
 */
export function ConsultRequestForm({
  caseId,
  slides,
  targets,
  action,
}: {
  caseId: string;
  slides: Slide[];
  targets: Target[];
  action: (form: FormData) => Promise<void>;
}) {
  const [chosen, setChosen] = useState<string[]>([]);
  const [target, setTarget] = useState(targets[0]?.value ?? "");
  const [shareLabel, setShareLabel] = useState(false);
  const picked = slides.filter((s) => chosen.includes(s.id));
  const to = targets.find((t) => t.value === target)?.label ?? "nobody yet";
  const toggle = (id: string, on: boolean) => setChosen((now) => (on ? [...now, id] : now.filter((x) => x !== id)));
  return (
    <form action={action} className="form-grid" style={{ marginTop: ".6rem" }}>
      <input type="hidden" name="caseId" value={caseId} />
      <fieldset>
        <legend>Slides to share (read-only, while the request is open)</legend>
        {slides.map((s) => (
          <label key={s.id} className="row">
            <input type="checkbox" name="slideIds" value={s.id} checked={chosen.includes(s.id)} onChange={(e) => toggle(s.id, e.target.checked)} /> {s.block} ·{" "}
            {s.stain}
          </label>
        ))}
      </fieldset>
      <label>
        Clinical question
        <textarea name="question" required minLength={10} placeholder="e.g. Melanoma in situ or severely dysplastic naevus?" />
      </label>
      <label>
        Urgency
        <select name="urgency" defaultValue="routine">
          <option value="routine">Routine</option>
          <option value="urgent">Urgent</option>
        </select>
      </label>
      <label>
        Ask
        <select name="target" required value={target} onChange={(e) => setTarget(e.target.value)}>
          {targets.map((t) => (
            <option key={t.value} value={t.value}>
              {t.label}
            </option>
          ))}
        </select>
      </label>
      <label className="row">
        <input type="checkbox" name="shareLabel" checked={shareLabel} onChange={(e) => setShareLabel(e.target.checked)} /> Show the slide label to the
        consultant (it may show the patient&apos;s name)
      </label>
      <p className="card" aria-live="polite" data-testid="share-summary">
        {picked.length === 0 ? (
          "No slide is shared yet: tick the slides the consultant needs."
        ) : (
          <>
            <strong>
              {to} will see {picked.length === 1 ? "1 slide" : `${picked.length} slides`}: {picked.map((s) => `${s.block} · ${s.stain}`).join(", ")}
            </strong>
            , {shareLabel ? "with the slide label (it may show the patient's name)" : "without the slide label"}. Nothing else of the case is shared.
          </>
        )}
      </p>
      <div className="row">
        <button type="submit" name="send" value="now" disabled={picked.length === 0}>
          Send request
        </button>
        <button type="submit" name="send" value="draft" className="plain" disabled={picked.length === 0}>
          Save as draft
        </button>
      </div>
    </form>
  );
}
