// The single tfjs instance the engine computes with. Every engine module asks `tf()` for it instead of
// importing tfjs-core statically, because @tensorflow/tfjs-node brings its own copy of tfjs-core: when the
// native backend is chosen, all ops must go through that copy, or its backend would not be the one used.
import * as bundledTf from '@tensorflow/tfjs-core';
// Gradients are registered by a side-effect module that tfjs-core's index does not import itself.
import '@tensorflow/tfjs-core/dist/register_all_gradients';

export type Tf = typeof bundledTf;
export type Tensor = bundledTf.Tensor;
export type Tensor1D = bundledTf.Tensor1D;
export type Tensor2D = bundledTf.Tensor2D;
export type Tensor3D = bundledTf.Tensor3D;

let active: Tf = bundledTf;

export function tf(): Tf {
  return active;
}

/** Called once by backend selection when tfjs-node loads. */
export function useTfInstance(instance: Tf): void {
  active = instance;
}

export function bundledInstance(): Tf {
  return bundledTf;
}
