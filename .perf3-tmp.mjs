import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { diceCELoss, diceLoss } from "/work/main/packages/losses/dist/index.js";
await tf.setBackend("wasm");
const x = tf.randomNormal([1,96,96,96,14]); const y = tf.floor(tf.mul(tf.randomUniform([1,96,96,96,1]), 14));
const full = x.size * 4;
for (const [name, f] of [["DiceCE", (z)=>diceCELoss(z,y,{to_onehot_y:true,softmax:true})], ["Dice", (z)=>diceLoss(z,y,{to_onehot_y:true,softmax:true})]]) {
const prof = await tf.profile(() => { const g = tf.grad(f)(x); return g; });
console.log(name, "peak", (prof.peakBytes/1e6).toFixed(0), "MB =", (prof.peakBytes/full).toFixed(1), "× the logits; new", prof.newBytes/full);
const agg = {};
for (const k of prof.kernels) { agg[k.name] = (agg[k.name] ?? 0) + (k.kernelTimeMs ?? 0); }
console.log(Object.entries(agg).sort((a,b)=>b[1]-a[1]).slice(0,8).map(([k,v])=>`${k} ${v.toFixed(0)}ms`).join(", "));
}
