// The activations of the op set, each with its value and its derivative side by side. Definitions
// follow Keras 2 (tf.keras), so weights trained there behave the same here: hard_sigmoid is
// clip(0.2·z + 0.5, 0, 1), elu has alpha 1, selu uses Keras's constants, gelu is the exact (erf) form.
import { tf, type Tensor } from '../../backend/tf';
import type { ActivationName } from '../../config/spec';

export interface Activation {
  evaluate(z: Tensor): Tensor;
  /** f'(z), elementwise. */
  derivative(z: Tensor): Tensor;
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

// Derivatives are built from ops that have gradients themselves (step, not greater/logicalAnd): LSC
// differentiates through these rules (their own derivative is zero almost everywhere), and tfjs refuses a
// backward pass through an op without a registered gradient.
const positive = (z: Tensor) => tf().cast(tf().step(z), 'bool');

export const ACTIVATION_RULES: Record<ActivationName, Activation> = {
  linear: {
    evaluate: (z) => z,
    derivative: (z) => tf().onesLike(z),
  },
  relu: {
    evaluate: (z) => tf().relu(z),
    derivative: (z) => tf().step(z),
  },
  sigmoid: {
    evaluate: (z) => tf().sigmoid(z),
    derivative: (z) => {
      const s = tf().sigmoid(z);
      return tf().mul(s, tf().sub(1, s));
    },
  },
  hard_sigmoid: {
    evaluate: (z) => tf().clipByValue(tf().add(tf().mul(z, 0.2), 0.5), 0, 1),
    derivative: (z) => tf().mul(tf().mul(tf().step(tf().add(z, 2.5)), tf().step(tf().sub(2.5, z))), 0.2),
  },
  tanh: {
    evaluate: (z) => tf().tanh(z),
    derivative: (z) => tf().sub(1, tf().square(tf().tanh(z))),
  },
  elu: {
    evaluate: (z) => tf().elu(z),
    derivative: (z) => tf().where(positive(z), tf().onesLike(z), tf().exp(z)),
  },
  selu: {
    evaluate: (z) => tf().selu(z),
    derivative: (z) =>
      tf().where(positive(z), tf().fill(z.shape, SELU_SCALE), tf().mul(tf().exp(z), SELU_SCALE * SELU_ALPHA)),
  },
  softplus: {
    evaluate: (z) => tf().softplus(z),
    derivative: (z) => tf().sigmoid(z),
  },
  softsign: {
    evaluate: (z) => tf().div(z, tf().add(1, tf().abs(z))),
    derivative: (z) => tf().div(1, tf().square(tf().add(1, tf().abs(z)))),
  },
  swish: {
    evaluate: (z) => tf().mul(z, tf().sigmoid(z)),
    derivative: (z) => {
      const s = tf().sigmoid(z);
      return tf().add(s, tf().mul(tf().mul(z, s), tf().sub(1, s)));
    },
  },
  gelu: {
    evaluate: (z) => tf().mul(tf().mul(z, 0.5), tf().add(1, tf().erf(tf().mul(z, SQRT1_2)))),
    // Φ(z) + z·φ(z)
    derivative: (z) => {
      const cdf = tf().mul(0.5, tf().add(1, tf().erf(tf().mul(z, SQRT1_2))));
      const pdf = tf().mul(INV_SQRT_2PI, tf().exp(tf().mul(tf().square(z), -0.5)));
      return tf().add(cdf, tf().mul(z, pdf));
    },
  },
};
