// Another developer, another language: run an ONNX file with ONNX Runtime for Node.js.
// Usage: node predict.js mlp.onnx < columns.json   (clean columns, null for a missing number)
const fs = require("fs");
const ort = require("onnxruntime-node");

const TEXT_COLUMNS = ["island", "sex"];

async function main() {
  const session = await ort.InferenceSession.create(process.argv[2]);
  const columns = JSON.parse(fs.readFileSync(0, "utf8"));
  const feeds = {};
  for (const [name, values] of Object.entries(columns)) {
    feeds[name] = TEXT_COLUMNS.includes(name)
      ? new ort.Tensor("string", values, [values.length, 1])
      : new ort.Tensor("float32", Float32Array.from(values, (v) => v ?? NaN), [values.length, 1]);
  }
  const { probabilities } = await session.run(feeds);
  const [rows, classes] = probabilities.dims;
  const answer = [];
  for (let row = 0; row < rows; row++) {
    answer.push(Array.from(probabilities.data.slice(row * classes, (row + 1) * classes)));
  }
  console.log(JSON.stringify({ node: process.version, onnxruntime: ort.env.versions.node, probabilities: answer }));
}

main();
