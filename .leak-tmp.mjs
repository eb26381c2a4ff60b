import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { diceCELoss, diceLoss, contrastiveLoss, l1Loss, crossEntropyLoss } from "/work/main/packages/losses/dist/index.js";
for (const be of ["cpu","wasm"]) {
await tf.setBackend(be);
const x = tf.randomNormal([2,4,4,4,3]); const y = tf.floor(tf.mul(tf.randomUniform([2,4,4,4,1]), 3));
const fns = { dice:(z)=>diceLoss(z,y,{to_onehot_y:true,softmax:true,include_background:false}), dce:(z)=>diceCELoss(z,y,{to_onehot_y:true,softmax:true,label_smoothing:0.1,weight:[1,2,3]}), ce:(z)=>crossEntropyLoss(z,y), cl:(z)=>contrastiveLoss(z, tf.onesLike(z)), l1:(z)=>l1Loss(z, tf.zerosLike(z)) };
for (const [k,f] of Object.entries(fns)) {
  const n0 = tf.memory().numTensors;
  const v = f(x); v.dispose(); const n1 = tf.memory().numTensors;
  const g = tf.grad(f)(x); g.dispose(); const n2 = tf.memory().numTensors;
  const vg = tf.valueAndGrad(f)(x); vg.value.dispose(); vg.grad.dispose(); const n3 = tf.memory().numTensors;
  console.log(be, k, n0, n1, n2, n3);
}}
