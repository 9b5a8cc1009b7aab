// The frame every panel view draws in: a card with its own title, an export button and a message line,
// so that a view owns its DOM and says itself when it has nothing to show.
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
  const card = document.createElement('article');
  card.className = 'card chart-card view-card';
  card.dataset.testid = testid;
  const head = document.createElement('header');
  head.className = 'card-head';
  const h = document.createElement('h2');
  h.className = 'card-title';
  h.textContent = title;
  const exportButton = makeButton('PNG', { appearance: 'secondary', title: `Export "${title}" as PNG`, testid: `${testid}-export` });
  exportButton.classList.add('small');
  exportButton.addEventListener('click', onExport);
  head.append(h, exportButton);
  const body = document.createElement('div');
  body.className = 'card-body chart-host';
  const message = document.createElement('p');
  message.className = 'view-message';
  message.dataset.testid = `${testid}-message`;
  card.append(head, body, message);
  return { card, title: h, body, message };
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
