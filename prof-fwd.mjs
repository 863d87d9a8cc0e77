import * as tf from '@tensorflow/tfjs';
import { initBackend } from './dist/backend/index.js';
import { buildResNet18 } from './dist/model/resnet.js';
await initBackend('native', { threads: 2 });
const trunk = buildResNet18({ size:112, channels: 3, width: 64, prefix: 'bench', pool: true });
const head = tf.layers.dense({ units: 5 });
const x = tf.randomNormal([8, 112, 112, 3], 0, 1, 'float32', 1);
const net = () => head.apply(trunk.apply(x, { training: false }));
for (let i=0;i<3;i++){ const o=tf.tidy(net); o.dataSync(); o.dispose(); }
const ts=[]; for (let i=0;i<7;i++){const t=performance.now(); const o=tf.tidy(net); o.dataSync(); o.dispose(); ts.push(performance.now()-t);} console.log(ts.map(t=>t.toFixed(1)).join(' '));
const agg={}; for (let r=0;r<5;r++){ const info = await tf.profile(() => { const o=tf.tidy(net); o.dataSync(); o.dispose(); });
for (const k of info.kernels) { agg[k.name] ??= 0; agg[k.name] += k.kernelTimeMs/5; } }
for (const [n,v] of Object.entries(agg).sort((a,b)=>b[1]-a[1]).slice(0,10)) console.log(n.padEnd(24), v.toFixed(2));
