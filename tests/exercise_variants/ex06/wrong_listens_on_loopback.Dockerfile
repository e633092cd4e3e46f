# build: docker build -t ex06-variant-loopback 06_context
# run: docker run --rm -d -p 127.0.0.1:8000:8000 ex06-variant-loopback
# fails with: listens on 127.0.0.1 inside the container
# uvicorn's default host is 127.0.0.1: inside a container that is the container alone.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /opt/venv && pip install --quiet -r requirements.txt
RUN useradd --system --uid 10001 --no-create-home penguin
COPY . .
USER penguin
CMD ["uvicorn", "my_service:app", "--port", "8000"]
