// Shown while a signed-in page loads its data: the shape of a page, not a spinner.
export default function Loading() {
  return (
    <main className="main" aria-busy="true" aria-label="Loading">
      <div className="page">
        <div className="skeleton" style={{ height: 32, width: 240 }} />
        <div className="skeleton" style={{ height: 16, width: 360, maxWidth: '100%' }} />
        <div className="skeleton" style={{ height: 180 }} />
        <div className="skeleton" style={{ height: 120 }} />
      </div>
    </main>
  );
}
