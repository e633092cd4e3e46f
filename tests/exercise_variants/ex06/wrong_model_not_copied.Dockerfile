# build: docker build -t ex06-variant-nomodel 06_context
# tag: docker tag ex06-variant-nomodel 127.0.0.1:5001/ex06-variant-nomodel:1
# push: docker push 127.0.0.1:5001/ex06-variant-nomodel:1
# run: docker run -d -p 127.0.0.1:8068:8000 127.0.0.1:5001/ex06-variant-nomodel:1
# fails with: expected the model (artifacts/mlp.onnx) in the image; found no COPY brings it in
# The code is copied file by file; the model is forgotten.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH
COPY my_service.py ./
COPY penguins penguins
RUN useradd penguin
USER penguin
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
