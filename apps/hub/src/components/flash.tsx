/** The outcome of the last form on a page, passed back in its URL. */
export function Flash({ message, error }: { message?: string; error?: string }) {
  if (error) {
    return (
      <p role="alert" className="card error">
        {error}
      </p>
    );
  }
  return message ? (
    <p role="status" className="card">
      {message}
    </p>
  ) : null;
}
