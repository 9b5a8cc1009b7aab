// The frames panel views draw in: `card` (a title, a control beside it, a body) for the heatmap, the charts and
// the table; `viewCard` adds an export button and a message line, so that a view says itself when it has nothing
// to show.
import type { Snapshot } from '../store';
import type { ThemeColors } from '../theme';
import { makeButton } from '../toolkit';

export interface ViewCard {
  card: HTMLElement;
  title: HTMLElement;
  body: HTMLElement;
  message: HTMLElement;
}

export function viewCard(title: string, testid: string, onExport: () => void): ViewCard {
  const exportButton = makeButton('PNG', { appearance: 'secondary', title: `Export "${title}" as PNG`, testid: `${testid}-export` });
  exportButton.classList.add('small');
  exportButton.addEventListener('click', onExport);
  const framed = card(title, exportButton);
  framed.card.classList.add('chart-card', 'view-card');
  framed.card.dataset.testid = testid;
  framed.body.classList.add('chart-host');
  const message = document.createElement('p');
  message.className = 'view-message';
  message.dataset.testid = `${testid}-message`;
  framed.card.append(message);
  return { ...framed, message };
}

/** A card with a title (and a control beside it) and a body: the frame of the heatmap, the charts and the table. */
export function card(title: string, extra?: HTMLElement): { card: HTMLElement; title: HTMLElement; body: HTMLElement } {
  const c = document.createElement('article');
  c.className = 'card';
  const head = document.createElement('header');
  head.className = 'card-head';
  const h = document.createElement('h2');
  h.className = 'card-title';
  h.textContent = title;
  head.append(h);
  if (extra) head.append(extra);
  const body = document.createElement('div');
  body.className = 'card-body';
  c.append(head, body);
  return { card: c, title: h, body };
}

/** A canvas filling a view's body (Chart.js sizes itself to the wrapper). */
export function canvasFor(body: HTMLElement): HTMLCanvasElement {
  const wrap = document.createElement('div');
  wrap.className = 'chart-wrap';
  const canvas = document.createElement('canvas');
  wrap.append(canvas);
  body.replaceChildren(wrap);
  return canvas;
}

/** A view that redraws from the last snapshot when the theme changes (its colours are read at draw time). */
export abstract class ThemedView {
  protected last: Snapshot | undefined;

  constructor(protected theme: ThemeColors) {}

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    if (this.last) this.update(this.last);
  }

  update(s: Snapshot): void {
    this.last = s;
    this.draw(s);
  }

  protected abstract draw(s: Snapshot): void;
}
