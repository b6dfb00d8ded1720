import type { AuditChainState } from "@pathx/api";

const utc = (iso: string) => `${iso.replace("T", " ").slice(0, 16)} UTC`;

/** The lab's audit chain as its administrator checks it: length, head, last signed checkpoint, verification now. */
export function AuditChainCard({ state }: { state: AuditChainState }) {
  const { verification: v } = state;
  return (
    <section className="card" aria-label="Audit chain">
      <p style={{ margin: 0 }}>
        {v.ok ? <strong style={{ color: "#1a7f37" }}>Verified: intact</strong> : <strong style={{ color: "#b42318" }}>BROKEN at entry {v.broken!.seq}</strong>}{" "}
        <span className="muted">
          — every entry re-hashed and linked just now, against {v.checkpoints} signed checkpoint{v.checkpoints === 1 ? "" : "s"}
        </span>
      </p>
      {v.ok ? null : (
        <p style={{ color: "#b42318" }}>
          {v.broken!.problem.charAt(0).toUpperCase() + v.broken!.problem.slice(1)}. {v.length ? `Entries 1–${v.length} are intact. ` : ""}Tell the hub operator
          and your security officer.
        </p>
      )}
      <table aria-label="Audit chain state">
        <tbody>
          <tr>
            <th scope="row">Entries</th>
            <td>{state.length}</td>
          </tr>
          <tr>
            <th scope="row">Head hash</th>
            <td>
              <code>{state.headHash ? `${state.headHash.slice(0, 32)}…` : "none yet"}</code>
            </td>
          </tr>
          <tr>
            <th scope="row">Last signed checkpoint</th>
            <td>{state.lastCheckpoint ? `entry ${state.lastCheckpoint.seq}, ${utc(state.lastCheckpoint.signedAt)}` : "none yet"}</td>
          </tr>
          <tr>
            <th scope="row">Signing key</th>
            <td>
              <code>{state.keyId}</code> <span className="muted">(public key at /api/audit/public-key)</span>
            </td>
          </tr>
        </tbody>
      </table>
      <p className="muted" style={{ marginBottom: 0 }}>
        The lab&apos;s nodes keep the signed checkpoints as witnesses; <code>pathx audit verify</code> on a node checks this chain independently of the hub.
      </p>
    </section>
  );
}
