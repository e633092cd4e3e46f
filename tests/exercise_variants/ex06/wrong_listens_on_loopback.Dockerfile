# build: docker build -t ex06-variant-loopback 06_context
# tag: docker tag ex06-variant-loopback 127.0.0.1:5001/ex06-variant-loopback:1
# push: docker push 127.0.0.1:5001/ex06-variant-loopback:1
# run: docker run --rm -d -p 127.0.0.1:8065:8000 127.0.0.1:5001/ex06-variant-loopback:1
# fails with: found uvicorn's default, 127.0.0.1
# uvicorn's default host is 127.0.0.1: inside a container that is the container alone.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH
COPY . .
RUN useradd --uid 10001 penguin
USER penguin
CMD ["uvicorn", "my_service:app", "--port", "8000"]
