import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { diceCELoss } from "/work/main/packages/losses/dist/index.js";
await tf.setBackend("cpu");
const x = tf.randomNormal([1,96,96,96,14]); const y = tf.floor(tf.mul(tf.randomUniform([1,96,96,96,1]), 14));
const prof = await tf.profile(() => tf.grad((z)=>diceCELoss(z,y,{to_onehot_y:true,softmax:true}))(x));
const agg = {};
for (const k of prof.kernels) { agg[k.name] = (agg[k.name] ?? 0) + (k.kernelTimeMs ?? 0); }
console.log(Object.entries(agg).sort((a,b)=>b[1]-a[1]).slice(0,15).map(([k,v])=>`${k} ${v.toFixed(0)}ms`).join("\n"));
