/** Shown while the server loads the run. */
export default function RunLoading() {
  return (
    <div className="page" aria-busy="true" aria-label="Loading the run">
      <div className="skeleton" style={{ height: 72 }} />
      <div className="skeleton" style={{ height: 320 }} />
      <div className="skeleton" style={{ height: 240 }} />
    </div>
  );
}
