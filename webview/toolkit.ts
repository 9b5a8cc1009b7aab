// The ONLY module that imports @vscode/webview-ui-toolkit. The toolkit is archived upstream (since
// 2025-01-01); everything else talks to the small helpers below, so moving to a successor (or to
// plain elements) is a change to this file alone.
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeProgressRing,
} from '@vscode/webview-ui-toolkit';

let registered = false;

/** Registers just the components the panel uses (idempotent). */
export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodeProgressRing(),
  );
}

export type ButtonAppearance = 'primary' | 'secondary' | 'icon';

export function makeButton(label: string, opts: { appearance?: ButtonAppearance; title?: string; testid?: string } = {}): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.setAttribute('appearance', opts.appearance ?? 'primary');
  if (opts.title) {
    b.title = opts.title;
    b.setAttribute('aria-label', opts.title);
  }
  if (opts.testid) b.dataset.testid = opts.testid;
  return b;
}

export function setDisabled(el: HTMLElement, disabled: boolean): void {
  el.toggleAttribute('disabled', disabled);
}

export interface Choice {
  value: string;
  label: string;
}

/** A dropdown; `onChange` gets the chosen value. */
export function makeDropdown(id: string, onChange: (value: string) => void): HTMLElement {
  const d = document.createElement('vscode-dropdown');
  d.id = id;
  d.addEventListener('change', () => onChange(dropdownValue(d)));
  return d;
}

/** Replaces the options of a dropdown and selects `value`. */
export function setDropdownChoices(d: HTMLElement, choices: readonly Choice[], value: string): void {
  const same = d.children.length === choices.length &&
    choices.every((c, k) => {
      const o = d.children[k] as HTMLElement;
      return o.getAttribute('value') === c.value && o.textContent === c.label;
    });
  if (!same) {
    d.replaceChildren(...choices.map((c) => {
      const o = document.createElement('vscode-option');
      o.setAttribute('value', c.value);
      o.textContent = c.label;
      return o;
    }));
  }
  setDropdownValue(d, value);
  setDisabled(d, choices.length <= 1);
}

export function setDropdownValue(d: HTMLElement, value: string): void {
  // The FAST select exposes `value` as a property; the options may be upgraded a microtask later,
  // so set it now and once more when they are.
  (d as HTMLElement & { value: string }).value = value;
  queueMicrotask(() => {
    if (dropdownValue(d) !== value) (d as HTMLElement & { value: string }).value = value;
  });
}

export function dropdownValue(d: HTMLElement): string {
  return String((d as HTMLElement & { value?: string }).value ?? '');
}

export function makeCheckbox(label: string, onChange: (checked: boolean) => void): HTMLElement {
  const c = document.createElement('vscode-checkbox');
  c.textContent = label;
  c.addEventListener('change', () => onChange(isChecked(c)));
  return c;
}

export function isChecked(c: HTMLElement): boolean {
  return Boolean((c as HTMLElement & { checked?: boolean }).checked);
}

export function setChecked(c: HTMLElement, checked: boolean): void {
  (c as HTMLElement & { checked: boolean }).checked = checked;
}

export function makeProgressRing(): HTMLElement {
  const r = document.createElement('vscode-progress-ring');
  r.setAttribute('aria-label', 'Running');
  return r;
}
