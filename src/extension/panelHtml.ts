// The webview's HTML: a strict Content-Security-Policy, the stylesheet from media/ and the bundled
// script from dist/webview/, both through asWebviewUri. Nothing is loaded from outside the extension.
// Pure: imports only vscode TYPES, so it can be called from tests and from the dev preview.
import type * as vscode from 'vscode';

/**
 * CSP notes.
 * - style-src has no 'unsafe-inline'. The webview-ui-toolkit (FAST) styles its components with
 *   constructable stylesheets (adoptedStyleSheets), which VS Code's Chromium supports and which
 *   style-src does not govern (FAST falls back to <style> elements only where adoptedStyleSheets is
 *   missing). Chart.js and the panel set styles only through the CSSOM (element.style), which CSP
 *   does not restrict either.
 * - The one exception is fast-web-utilities' canUseFocusVisible(): it appends an empty <style>
 *   element to probe `:focus-visible` support. Without a nonce that probe is a CSP violation (a
 *   console error on every load, and the toolkit falls back to :focus rings). FAST reads the nonce
 *   for it from <meta property="csp-nonce">, so style-src also admits the page's nonce: nothing but
 *   that nonce'd probe can add inline style. Checked in Chromium with webview/dev/preview.ts: no
 *   securitypolicyviolation events with this policy.
 * - img-src allows data: for canvas data URLs (the PNG export).
 * - script-src admits only the nonce'd bundle.
 */
export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
  ].join('; ');
}

function joinUri(base: vscode.Uri, ...segments: string[]): vscode.Uri {
  const path = base.path.replace(/\/+$/, '') + '/' + segments.join('/');
  return base.with({ path });
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri, nonce: string): string {
  const script = webview.asWebviewUri(joinUri(extensionUri, 'dist', 'webview', 'main.js')).toString();
  const style = webview.asWebviewUri(joinUri(extensionUri, 'media', 'panel.css')).toString();
  const csp = panelCsp(webview.cspSource, nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="csp-nonce" content="${escapeAttr(nonce)}">
<link rel="stylesheet" href="${escapeAttr(style)}">
<title>RNN Jacobian Lab</title>
</head>
<body>
<main id="app" aria-label="RNN Jacobian Lab"></main>
<script nonce="${escapeAttr(nonce)}" src="${escapeAttr(script)}"></script>
</body>
</html>`;
}

/** 32 random characters from [A-Za-z0-9], from the platform's CSPRNG. */
export function makeNonce(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = new Uint8Array(64);
  let out = '';
  while (out.length < 32) {
    globalThis.crypto.getRandomValues(bytes);
    // 248 = 4·62: dropping larger bytes keeps every character equally likely.
    for (const b of bytes) if (b < 248 && out.length < 32) out += alphabet[b % alphabet.length];
  }
  return out;
}
