import * as tf from "@tensorflow/tfjs-core";
import { defineOptimizer, type NamedVariables, type Optimizer, type OptimizerState, z } from "@voxelpipe/core";

/**
 * PyTorch-semantics optimizers (so MONAI settings mean the same here). State is plain named
 * tensors, so checkpoints can store and restore it exactly.
 */
class SlotStore {
  readonly slots = new Map<string, tf.Variable>();
  get(name: string, like: tf.Tensor): tf.Variable {
    let v = this.slots.get(name);
    if (!v) {
      v = tf.variable(tf.zerosLike(like), false, undefined, "float32");
      this.slots.set(name, v);
    }
    return v;
  }
  toState(step: number): OptimizerState {
    const slots: OptimizerState["slots"] = {};
    for (const [k, v] of this.slots) slots[k] = { shape: v.shape, data: v.dataSync() as Float32Array };
    return { step, slots };
  }
  load(s: OptimizerState): void {
    for (const [k, { shape, data }] of Object.entries(s.slots)) {
      const t = tf.tensor(data, shape, "float32");
      const v = this.slots.get(k);
      if (v) {
        v.assign(t);
        t.dispose();
      } else {
        this.slots.set(k, tf.variable(t, false, undefined, "float32"));
        t.dispose();
      }
    }
  }
}

const adamArgs = z.object({
  lr: z.number().positive().default(1e-3).describe("learning rate"),
  betas: z
    .tuple([z.number().min(0).max(1), z.number().min(0).max(1)])
    .default([0.9, 0.999])
    .describe("(beta1, beta2)"),
  eps: z.number().positive().default(1e-8).describe("added to the denominator"),
  weight_decay: z.number().min(0).default(0).describe("L2 penalty (Adam) / decoupled decay (AdamW)"),
});

function adam(args: z.output<typeof adamArgs>, decoupled: boolean): Optimizer {
  const store = new SlotStore();
  let step = 0;
  const [b1, b2] = args.betas;
  const opt: Optimizer = {
    lr: args.lr,
    apply(params: NamedVariables, grads: Record<string, tf.Tensor>) {
      step += 1;
      const bc1 = 1 - b1 ** step;
      const bc2 = 1 - b2 ** step;
      const lr = opt.lr;
      for (const [name, p] of params) {
        const g0 = grads[name];
        if (!g0) continue;
        const m = store.get(`m/${name}`, p);
        const v = store.get(`v/${name}`, p);
        tf.tidy(() => {
          let g = g0;
          if (args.weight_decay > 0 && !decoupled) g = tf.add(g, tf.mul(p, args.weight_decay));
          const mNew = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
          const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
          m.assign(mNew);
          v.assign(vNew);
          // PyTorch: p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)
          const denom = tf.add(tf.div(tf.sqrt(vNew), Math.sqrt(bc2)), args.eps);
          let base: tf.Tensor = p;
          if (args.weight_decay > 0 && decoupled) base = tf.mul(p, 1 - lr * args.weight_decay);
          p.assign(tf.sub(base, tf.mul(tf.div(mNew, denom), lr / bc1)));
        });
      }
    },
    getState: () => store.toState(step),
    setState(s: OptimizerState) {
      step = s.step;
      store.load(s);
    },
  };
  return opt;
}

export const AdamDef = defineOptimizer({
  name: "Adam",
  description: "Adam (PyTorch semantics; weight_decay is an L2 penalty added to the gradient)",
  args: adamArgs,
  create: (args) => (_params: NamedVariables) => adam(args, false),
});

export const AdamWDef = defineOptimizer({
  name: "AdamW",
  description: "AdamW (PyTorch semantics: decoupled weight decay, p *= 1 - lr*wd before the Adam step)",
  args: adamArgs.extend({ weight_decay: z.number().min(0).default(1e-2).describe("decoupled weight decay") }),
  create: (args) => (_params: NamedVariables) => adam(args, true),
});

export const SGDDef = defineOptimizer({
  name: "SGD",
  description: "stochastic gradient descent with optional (Nesterov) momentum, PyTorch semantics",
  args: z.object({
    lr: z.number().positive().describe("learning rate"),
    momentum: z.number().min(0).default(0).describe("momentum factor (0: none)"),
    dampening: z.number().min(0).default(0).describe("dampening of the momentum update"),
    nesterov: z.boolean().default(false).describe("Nesterov momentum"),
    weight_decay: z.number().min(0).default(0).describe("L2 penalty"),
  }),
  create: (args) => (_params: NamedVariables) => {
    const store = new SlotStore();
    let step = 0;
    const opt: Optimizer = {
      lr: args.lr,
      apply(params, grads) {
        step += 1;
        for (const [name, p] of params) {
          const g0 = grads[name];
          if (!g0) continue;
          tf.tidy(() => {
            let g: tf.Tensor = g0;
            if (args.weight_decay > 0) g = tf.add(g, tf.mul(p, args.weight_decay));
            if (args.momentum > 0) {
              const buf = store.get(`momentum/${name}`, p);
              const next = step === 1 ? g : tf.add(tf.mul(buf, args.momentum), tf.mul(g, 1 - args.dampening));
              buf.assign(next);
              g = args.nesterov ? tf.add(g, tf.mul(next, args.momentum)) : next;
            }
            p.assign(tf.sub(p, tf.mul(g, opt.lr)));
          });
        }
      },
      getState: () => store.toState(step),
      setState(s) {
        step = s.step;
        store.load(s);
      },
    };
    return opt;
  },
});
