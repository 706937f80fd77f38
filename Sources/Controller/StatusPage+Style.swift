extension StatusPage {
    /// The page's stylesheet: dark, large type, and every colour paired with a word or a
    /// symbol, so nothing is told by colour alone.
    static let style = """

        :root { color-scheme: dark; --bg: #101317; --panel: #171b21; --line: #2a313b; --text: #e8eaed;
          --muted: #9aa4b1; --ok: #1f9d55; --warn: #e0a100; --crit: #d93025; --unknown: #6b7280; --info: #3b82f6; }
        * { box-sizing: border-box; }
        [hidden] { display: none !important; }
        body { margin: 0; background: var(--bg); color: var(--text); font: 16px/1.45 system-ui, -apple-system,
          "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", sans-serif; font-variant-numeric: tabular-nums; }
        code { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.92em; }
        .top { display: flex; gap: 1.5rem; align-items: baseline; flex-wrap: wrap; padding: 0.6rem 1.5rem;
          border-bottom: 1px solid var(--line); }
        .brand { font-weight: 700; font-size: 1.2rem; letter-spacing: 0.02em; }
        .who { color: var(--muted); }
        .who b { color: var(--text); }
        .freshness { margin-left: auto; color: var(--muted); }
        .freshness[data-state="error"] { color: #ffb4ab; font-weight: 700; }
        .banner { margin: 0.9rem 1.5rem; padding: 0.7rem 1.5rem; border-radius: 10px; background: var(--unknown);
          color: #fff; border: 3px solid transparent; }
        .banner .level { font-size: 2.4rem; font-weight: 800; letter-spacing: 0.04em; display: flex;
          gap: 0.8rem; align-items: center; }
        .banner .icon { display: inline-block; min-width: 3.2rem; height: 3.2rem; line-height: 3.2rem;
          text-align: center; border-radius: 50%; background: rgba(0, 0, 0, 0.25); font-size: 2rem; }
        .banner[data-level="OK"] { background: var(--ok); }
        .banner[data-level="WARNING"] { background: var(--warn); color: #1a1300; }
        .banner[data-level="CRITICAL"] { background: var(--crit); border-color: #ffdad6; }
        .banner[data-level="UNREACHABLE"] { background: #4a1d6e; border-color: #d0bcff; }
        .problems { margin: 0.4rem 0 0 0; padding-left: 1.4rem; font-size: 1.15rem; font-weight: 600; }
        .problems:empty { display: none; }
        .unreachable { margin: 0 1.5rem 1rem; padding: 0.8rem 1.2rem; border: 2px solid #d0bcff;
          border-radius: 8px; background: #2a1740; font-size: 1.1rem; }
        main { padding: 0 1.5rem 1rem; }
        main.stale { opacity: 0.45; }
        section { margin-bottom: 1.1rem; }
        h2 { font-size: 1.15rem; margin: 0 0 0.5rem; color: var(--muted); text-transform: uppercase;
          letter-spacing: 0.08em; }
        table { width: 100%; border-collapse: collapse; background: var(--panel); border-radius: 8px;
          overflow: hidden; }
        th, td { text-align: left; vertical-align: top; padding: 0.45rem 0.8rem; border-bottom: 1px solid var(--line); }
        th { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted);
          font-weight: 600; background: #1c2129; }
        tbody tr:last-child td { border-bottom: none; }
        td.empty { color: var(--muted); font-style: italic; }
        .big { font-size: 1.25rem; font-weight: 700; }
        .sub { display: block; color: var(--muted); font-size: 0.85rem; }
        .chip { display: inline-block; padding: 0.1rem 0.55rem; margin: 0 0.3rem 0.25rem 0; border-radius: 999px;
          font-weight: 700; font-size: 0.9rem; border: 1px solid transparent; white-space: nowrap; }
        .v-up, .c-ok { background: #0f3d24; color: #8ff0b4; border-color: #1f9d55; }
        .v-down, .c-bad { background: #4d1411; color: #ffb4ab; border-color: #d93025; }
        .v-suspect, .v-recovering, .c-warn { background: #473600; color: #ffd966; border-color: #e0a100; }
        .v-unknown, .c-none { background: #2b3038; color: #c3c9d1; border-color: #6b7280; }
        .c-info { background: #102a52; color: #a8c8ff; border-color: #3b82f6; }
        .checks { margin: 0; padding: 0; list-style: none; font-size: 0.92rem; }
        .checks li { margin-bottom: 0.15rem; }
        .facts { display: flex; flex-wrap: wrap; gap: 0.6rem 2.2rem; margin: 0 0 0.8rem; }
        .facts dt { color: var(--muted); font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em; }
        .facts dd { margin: 0; font-size: 1.15rem; font-weight: 700; }
        .note { color: #ffb4ab; }
        footer { padding: 0 1.5rem 1.5rem; color: var(--muted); font-size: 0.85rem; }

        """
}
