// The frame every panel view draws in: a card with its own title, an export button and a message line,
// so that a view owns its DOM and says itself when it has nothing to show.
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

/** A canvas filling a view's body (Chart.js sizes itself to the wrapper). */
export function canvasFor(body: HTMLElement): HTMLCanvasElement {
  const wrap = document.createElement('div');
  wrap.className = 'chart-wrap';
  const canvas = document.createElement('canvas');
  wrap.append(canvas);
  body.replaceChildren(wrap);
  return canvas;
}
