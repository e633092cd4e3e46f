# build: docker build -t ex06-variant-flat 06_context
# tag: docker tag ex06-variant-flat 127.0.0.1:5001/ex06-variant-flat:1
# push: docker push 127.0.0.1:5001/ex06-variant-flat:1
# run: docker run --rm -d -p 127.0.0.1:8071:8000 127.0.0.1:5001/ex06-variant-flat:1
# fails when run with: expected the container to keep serving; found it stopped; its log ends:
# The model lands beside the service instead of in artifacts/, where the service looks for it:
# every rule passes, the service stops at start-up (and --rm removes it with its log).
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH
COPY my_service.py ./
COPY penguins/ ./penguins/
COPY artifacts/mlp.onnx artifacts/mlp.onnx.json ./
RUN useradd --uid 10001 penguin
USER penguin
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
