// The per-step table (webview/table.ts) as a panel view: redrawn for a new pair, its row selected with the step;
// clicking a row selects that step.
import type { Snapshot } from '../store';
import { StepTable } from '../table';
import { pairChanged, type PanelView, type ViewDeclaration } from './panelView';
import { card } from './viewCard';

class TableView implements PanelView {
  readonly cards: HTMLElement[];
  private readonly title: HTMLElement;
  private readonly table: StepTable;

  constructor(onSelect: (k: number) => void) {
    const table = card('Per-step statistics');
    table.card.classList.add('table-card');
    table.body.classList.add('table-host');
    this.cards = [table.card];
    this.title = table.title;
    this.table = new StepTable(table.body, onSelect);
  }

  setTheme(): void {
    // A plain <table> styled by the theme's CSS variables: nothing to redraw.
  }

  update(s: Snapshot, before: Snapshot): void {
    const pair = s.report?.jacobians[s.selection.pairIndex];
    if (!pair) return;
    if (pairChanged(s, before)) {
      this.title.textContent = `Per-step statistics · ∂${pair.of}/∂${pair.wrt} · mean over the batch`;
      this.table.render(pair);
    }
    this.table.select(s.selection.stepIndex);
  }
}

export const tableView: ViewDeclaration = {
  name: 'table',
  slot: 'table',
  create: (ctx) => new TableView((k) => ctx.select({ stepIndex: k })),
};
