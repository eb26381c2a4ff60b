import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { diceCELoss, diceLoss, crossEntropyLoss } from "/work/main/packages/losses/dist/index.js";
await tf.setBackend("wasm");
const which = process.argv[2];
const x = tf.randomNormal([1,96,96,96,14]); const y = tf.floor(tf.mul(tf.randomUniform([1,96,96,96,1]), 14));
const full = x.size * 4;
const fns = {
  "softmax": (z)=>tf.sum(tf.softmax(z,-1)),
  "logSoftmax": (z)=>tf.sum(tf.logSoftmax(z,-1)),
  "Dice": (z)=>diceLoss(z,y,{to_onehot_y:true,softmax:true}),
  "CE": (z)=>crossEntropyLoss(z,y),
  "DiceCE": (z)=>diceCELoss(z,y,{to_onehot_y:true,softmax:true}),
};
const heap = () => tf.backend().wasm.HEAPU8.length;
const h0 = heap();
const g = tf.grad(fns[which])(x); g.dataSync(); g.dispose();
console.log(which.padEnd(12), "heap high-water beyond inputs:", ((heap()-h0)/full).toFixed(1), "× logits; tensors left", tf.memory().numTensors);
