# command: bash {file} {model}
# fails with: expected the room back on
# The smoke step's failure ends the script, but nothing switches back: the bad version stays live.
set -euo pipefail
model="$1"
version=$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["model_version"])' "$model/mlp.onnx.json")
image="127.0.0.1:5001/penguins-to-production:$version"
python -m pytest ../tests/test_golden.py -q -p no:cacheprovider
cp "$model/mlp.onnx" "$model/mlp.onnx.json" 09_context/artifacts/
docker build --quiet -f 09_context/docker/Dockerfile --label "penguins.model_version=$version" -t "$image" 09_context
docker push --quiet "$image"
python -m workshop room rollout "$image"
python -m penguins smoke --url https://www.mojadomena.zmodelami.pl:8443 --cacert ../.room/tls/ca.crt \
    --api-key-file ../.room/api-key --resolve www.mojadomena.zmodelami.pl:127.0.0.1 --artifacts "$model" ../tests/golden.json
