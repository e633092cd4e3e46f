# build: docker build -t ex06-variant-flat 06_context
# run: docker run -d -p 127.0.0.1:8000:8000 ex06-variant-flat
# fails with: artifacts/mlp.onnx at /app/artifacts/mlp.onnx, where my_service.py
# The model lands beside the service instead of in artifacts/, where the service looks for it.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY requirements.txt my_service.py ./
COPY penguins/ ./penguins/
COPY artifacts/mlp.onnx artifacts/mlp.onnx.json ./
RUN python3 -m venv /opt/venv && pip install -r requirements.txt && useradd penguin
USER penguin
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
