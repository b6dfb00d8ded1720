/** Who from other labs listed this lab's slides as priors of their own patient (the look-up itself is audited). */
export function PriorLookups({
  rows,
}: {
  rows: { id: string; at: Date; viewer: string; viewerEmail: string; viewerLab: string; accession: string; flagged: boolean }[];
}) {
  return (
    <>
      <h2 style={{ fontSize: "1.1rem", marginTop: "2rem" }}>Who looked this lab&apos;s patients up</h2>
      <p className="muted">
        Each time someone of another lab lists a patient&apos;s prior studies and this lab holds slides of that patient. &ldquo;No slide there&rdquo; means
        their lab has no usable slide of that patient itself; such look-ups are limited per hour.
      </p>
      {rows.length === 0 ? (
        <p className="muted">Nobody from another lab has looked up this lab&apos;s patients.</p>
      ) : (
        <table aria-label="Prior look-ups">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>For their case</th>
              <th>Flag</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td>{new Date(r.at).toISOString().replace("T", " ").slice(0, 16)} UTC</td>
                <td>
                  {r.viewer} <span className="muted">({r.viewerLab || r.viewerEmail})</span>
                </td>
                <td>{r.accession}</td>
                <td>{r.flagged ? <strong className="error">No slide there</strong> : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
