/** Placeholder page: the traffic inspector is the "Desktop app" issue. */
export function App() {
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: 24 }}>
      <h1>LocalDLS</h1>
      <p>The provisioning service is running. The traffic inspector arrives with the desktop-app issue; until then use
        <code> localdls traffic --follow</code>.</p>
    </main>
  );
}
