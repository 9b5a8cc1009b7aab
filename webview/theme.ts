// Colours come from VS Code's CSS variables, read at draw time; a MutationObserver on <body>'s class
// (vscode-light / vscode-dark / vscode-high-contrast[-light]) tells the charts and the heatmap to
// re-read them when the user switches themes.

export interface ThemeColors {
  kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
  foreground: string;
  muted: string;
  background: string;
  border: string;
  grid: string;
  focus: string;
  fontFamily: string;
  fontSize: number;
  blue: string;
  red: string;
  orange: string;
  green: string;
  purple: string;
  yellow: string;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

export function themeKind(): ThemeColors['kind'] {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-light')) return 'light';
  return 'dark';
}

export function readTheme(): ThemeColors {
  const s = getComputedStyle(document.body);
  const kind = themeKind();
  const light = kind === 'light' || kind === 'high-contrast-light';
  const fg = cssVar(s, '--vscode-foreground', light ? '#3b3b3b' : '#cccccc');
  const hc = kind.startsWith('high-contrast');
  return {
    kind,
    foreground: cssVar(s, '--vscode-charts-foreground', fg),
    muted: cssVar(s, '--vscode-descriptionForeground', fg),
    background: cssVar(s, '--vscode-editor-background', light ? '#ffffff' : '#1f1f1f'),
    border: cssVar(s, '--vscode-panel-border', light ? '#e5e5e5' : '#2b2b2b'),
    // Grid lines are a faint version of the chart line colour (charts-lines is meant for axes).
    grid: hc
      ? withAlpha(cssVar(s, '--vscode-contrastBorder', fg), 0.45)
      : withAlpha(cssVar(s, '--vscode-charts-lines', light ? '#616161' : '#cccccc'), light ? 0.16 : 0.14),
    focus: cssVar(s, '--vscode-focusBorder', '#0078d4'),
    fontFamily: cssVar(s, '--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: parseFloat(cssVar(s, '--vscode-font-size', '13')) || 13,
    blue: cssVar(s, '--vscode-charts-blue', '#3794ff'),
    red: cssVar(s, '--vscode-charts-red', '#f14c4c'),
    orange: cssVar(s, '--vscode-charts-orange', '#d18616'),
    green: cssVar(s, '--vscode-charts-green', '#89d185'),
    purple: cssVar(s, '--vscode-charts-purple', '#b180d7'),
    yellow: cssVar(s, '--vscode-charts-yellow', '#cca700'),
  };
}

/** `color` with alpha `a`, for translucent bands; understands #rgb, #rrggbb, #rrggbbaa and rgb(). */
export function withAlpha(color: string, a: number): string {
  const c = color.trim();
  let m = /^#([0-9a-f]{3})$/i.exec(c);
  if (m) {
    const [r, g, b] = m[1].split('').map((h) => parseInt(h + h, 16));
    return `rgba(${r}, ${g}, ${b}, ${a})`;
  }
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(c);
  if (m) {
    const n = parseInt(m[1], 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
  }
  const f = /^rgba?\(([^)]+)\)$/i.exec(c);
  if (f) {
    const [r, g, b] = f[1].split(/[\s,/]+/).filter(Boolean);
    return `rgba(${r}, ${g}, ${b}, ${a})`;
  }
  return c;
}

/**
 * Calls `onChange` (at most once a frame) whenever the theme changes: <body>'s class
 * (vscode-light / vscode-dark / vscode-high-contrast), its theme id (two dark themes share the
 * class), or the CSS variables VS Code writes into <html>'s style.
 */
export function watchTheme(onChange: () => void): MutationObserver {
  let pending = false;
  let last = signature();
  const obs = new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      const now = signature();
      if (now !== last) {
        last = now;
        onChange();
      }
    });
  });
  obs.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-id', 'data-vscode-theme-kind'] });
  obs.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  return obs;
}

function signature(): string {
  return [
    document.body.className,
    document.body.getAttribute('data-vscode-theme-id') ?? '',
    document.documentElement.getAttribute('style') ?? '',
  ].join('|');
}
