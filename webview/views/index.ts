// The panel views' registry: every view, in the order its cards appear within their slot. main.ts creates them
// from here; each file declares its own view (name, slot, how to create it).
import { chartsView } from './chartsView';
import { controlView } from './controlView';
import { depthTimeView } from './depthTimeView';
import { gradientView } from './gradientView';
import { heatmapView } from './heatmapView';
import { lyapunovView } from './lyapunovView';
import type { ViewDeclaration } from './panelView';
import { tableView } from './tableView';

export const PANEL_VIEWS: readonly ViewDeclaration[] = [heatmapView, chartsView, depthTimeView, gradientView, lyapunovView, tableView, controlView];
