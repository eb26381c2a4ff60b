import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { diceCELoss, contrastiveLoss } from "/work/main/packages/losses/dist/index.js";
const B = Number(process.argv[2] ?? 1);
for (const be of ["wasm","cpu"]) {
  await tf.setBackend(be);
  const x = tf.randomNormal([B,96,96,96,14]); const y = tf.floor(tf.mul(tf.randomUniform([B,96,96,96,1]), 14));
  for (let r=0;r<2;r++){ let t=performance.now();
  const g = tf.grad((z)=>diceCELoss(z,y,{to_onehot_y:true,softmax:true}))(x);
  g.dataSync(); console.log(be, `DiceCE fwd+bwd [${B},96³,14]`, (performance.now()-t).toFixed(0), "ms"); g.dispose(); }
  const a = tf.randomUniform([8, 96*96*96]); const b = tf.randomUniform([8, 96*96*96]);
  for (let r=0;r<2;r++){ let t=performance.now(); const g2 = tf.grad((z)=>contrastiveLoss(z,b,{temperature:0.05}))(a); g2.dataSync(); console.log(be, "Contrastive fwd+bwd [8, 96³]", (performance.now()-t).toFixed(0),"ms"); g2.dispose(); }
  tf.dispose([x,y,a,b]);
  console.log("tensors alive", tf.memory().numTensors);
}
