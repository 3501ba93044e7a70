/** Header pairs in the raw style of the Headers tab, under a heading: a message's own or the upstream's. `empty` stands for pairs that are null. */
export function HeaderLines({ title, startLine, pairs, empty, className }: { title: string; startLine?: string | null; pairs: readonly [string, string][] | null; empty: string; className?: string }) {
  return (
    <section className={className ? `msg ${className}` : 'msg'}>
      <div className="msg-head"><strong>{title}</strong></div>
      <div className="code raw headers">
        {startLine ? <div className="line"><span className="lc x-name">{startLine}</span></div> : null}
        {pairs?.map(([k, v], i) => (
          <div className="line" key={i}>
            <span className="lc"><span className="x-attr">{k}</span>: {v}</span>
          </div>
        ))}
        {pairs === null ? <div className="empty">{empty}</div> : null}
      </div>
    </section>
  );
}
