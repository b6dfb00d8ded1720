"use client";

import { createTRPCClient, httpLink } from "@trpc/client";
import { createSHA256 } from "hash-wasm";
import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import type { AppRouter } from "@pathx/api";

const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: "/api/trpc" })] });

type Phase =
  | { kind: "idle" }
  | { kind: "hashing" | "uploading" | "finishing"; fraction: number }
  | { kind: "done"; text: string }
  | { kind: "error"; text: string };

/** What the hub reads of a file before accepting it (HEADER_BYTES in @pathx/wsi). */
const HEADER_BYTES = 64 * 1024;

function bytesToBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * PUT with retries and growing pauses: a dropped connection or a chunk damaged on the way
 * (422) costs one chunk, not the upload; any other refusal is final.
 */
async function putChunk(url: string, body: ArrayBuffer, sha: string) {
  for (let attempt = 0; ; attempt++) {
    let response: Response | undefined;
    try {
      response = await fetch(url, { method: "PUT", body, headers: { "x-chunk-sha256": sha, "content-type": "application/octet-stream" } });
    } catch (error) {
      if (attempt >= 4) throw error;
    }
    if (response?.ok) return;
    if (response) {
      const message = ((await response.json().catch(() => ({}))) as { error?: string }).error ?? `HTTP ${response.status}`;
      if ((response.status < 500 && response.status !== 422) || attempt >= 4) throw new Error(message);
    }
    await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
  }
}

export function UploadPanel() {
  const router = useRouter();
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });
  const [dragging, setDragging] = useState(false);
  const [lastFile, setLastFile] = useState<File | undefined>();
  const form = useRef<HTMLFormElement>(null);

  async function upload(file: File) {
    const data = new FormData(form.current!);
    const meta = {
      accessionNumber: String(data.get("accession") ?? ""),
      block: String(data.get("block") ?? ""),
      stain: String(data.get("stain") ?? ""),
      specimen: String(data.get("specimen") ?? ""),
    };
    setLastFile(file);
    if (!meta.accessionNumber.trim()) return setPhase({ kind: "error", text: "Give the case's accession number first, then retry." });
    try {
      // The hub reads the file's header first: a file that is no slide is refused before it is sent.
      const header = bytesToBase64(new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer()));
      // The whole file's checksum identifies it: the same file resumes, a known file is not sent twice.
      const hasher = await createSHA256();
      const step = 16 * 1024 * 1024;
      for (let at = 0; at < file.size; at += step) {
        hasher.update(new Uint8Array(await file.slice(at, at + step).arrayBuffer()));
        setPhase({ kind: "hashing", fraction: Math.min(1, (at + step) / file.size) });
      }
      const state = await api.uploads.start.mutate({ fileName: file.name, size: file.size, sha256: hasher.digest("hex"), meta, header });
      if (state.kind === "duplicate") {
        setPhase({ kind: "done", text: `${file.name} is already in the lab's slides.` });
        return router.refresh();
      }
      const done = new Set(state.received);
      let sent = done.size;
      const queue = Array.from({ length: state.chunkCount }, (_, i) => i).filter((i) => !done.has(i));
      setPhase({ kind: "uploading", fraction: sent / state.chunkCount });
      const workers = Array.from({ length: 3 }, async () => {
        for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
          const body = await file.slice(index * state.chunkSize, (index + 1) * state.chunkSize).arrayBuffer();
          await putChunk(`/api/uploads/${state.uploadId}/chunks/${index}`, body, await sha256Hex(body));
          sent++;
          setPhase({ kind: "uploading", fraction: sent / state.chunkCount });
        }
      });
      await Promise.all(workers);
      setPhase({ kind: "finishing", fraction: 1 });
      await api.uploads.complete.mutate({ uploadId: state.uploadId });
      setPhase({ kind: "done", text: `${file.name} uploaded; it is being tiled.` });
      router.refresh();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A refused file stays refused; anything else resumes from the chunks the hub has.
      setPhase({ kind: "error", text: / cannot be taken: /.test(message) ? message : `${message} — retry, or drop or choose the same file again to resume.` });
    }
  }

  const busy = phase.kind === "hashing" || phase.kind === "uploading" || phase.kind === "finishing";
  const label = { hashing: "Checking file", uploading: "Uploading", finishing: "Finishing" } as const;
  return (
    <form ref={form} className="card" style={{ marginBottom: "1rem" }} onSubmit={(e) => e.preventDefault()}>
      <strong>Upload a slide</strong>
      <div style={{ display: "flex", gap: ".5rem", flexWrap: "wrap", margin: ".5rem 0" }}>
        <input name="accession" aria-label="Case accession number" placeholder="Accession number" required />
        <input name="block" aria-label="Block" placeholder="Block" size={6} />
        <input name="stain" aria-label="Stain" placeholder="Stain" size={8} defaultValue="H&E" />
        <input name="specimen" aria-label="Specimen" placeholder="Specimen" />
      </div>
      <p className="muted" style={{ margin: "0 0 .5rem" }}>
        A slide uploaded here is not linked to a patient: no patient id is asked for or sent. Slides your lab&apos;s node publishes carry a pseudonym it
        computes inside the lab, and only those are found as priors at other labs.
      </p>
      <label
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          const file = e.dataTransfer.files[0];
          if (file && !busy) void upload(file);
        }}
        style={{
          display: "block",
          border: `2px dashed ${dragging ? "var(--accent)" : "var(--line)"}`,
          borderRadius: ".5rem",
          padding: "1rem",
          textAlign: "center",
          cursor: "pointer",
        }}
      >
        Drop an .svs, .ndpi or .tif file here, or choose one
        <input
          type="file"
          accept=".svs,.ndpi,.tif,.tiff"
          aria-label="Slide file"
          disabled={busy}
          style={{ display: "block", margin: ".5rem auto 0" }}
          onChange={(e) => {
            const file = e.target.files?.[0];
            // Cleared at once, so choosing the same file again is a change (a retry) too.
            e.target.value = "";
            if (file) void upload(file);
          }}
        />
      </label>
      {busy ? (
        <p>
          {label[phase.kind]} {Math.round(phase.fraction * 100)}%
          <progress max={1} value={phase.fraction} style={{ width: "100%" }} aria-label="Upload progress" />
        </p>
      ) : null}
      {phase.kind === "done" ? <p role="status">{phase.text}</p> : null}
      {phase.kind === "error" ? (
        <p className="error" role="alert">
          {phase.text}
          {lastFile && !/ cannot be taken: /.test(phase.text) ? (
            <button type="button" className="plain small" style={{ marginLeft: ".6rem" }} onClick={() => void upload(lastFile)}>
              Retry {lastFile.name}
            </button>
          ) : null}
        </p>
      ) : null}
    </form>
  );
}
